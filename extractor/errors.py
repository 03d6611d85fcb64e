"""Exceptions a user can cause and can fix.

The CLI turns any :class:`ExtractorError` into one line on stderr and a non-zero exit status,
never a traceback. Programming errors are not wrapped: they should surface.
"""

from __future__ import annotations


class ExtractorError(Exception):
    """Base class: the message says what failed and how to fix it."""

    exit_code = 1


class InputError(ExtractorError):
    """A file, line or option given by the user cannot be used (missing file, bad JSON, ...)."""

    exit_code = 2


class FetchError(ExtractorError):
    """A remote service or dump file could not be read after bounded retries."""


class ExtractionError(ExtractorError):
    """The NLP pipeline could not be built or loaded (e.g. a missing or incompatible model)."""


class PoolingError(ExtractorError):
    """The requested meta-analysis cannot be computed from the given data."""


class StoreError(ExtractorError):
    """The review store is missing, locked, or from an incompatible schema version."""


class ConflictError(StoreError):
    """Someone else saved this value first (optimistic version check failed)."""
