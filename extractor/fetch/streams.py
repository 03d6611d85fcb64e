"""Opening input files, and the errors that reading a damaged one raises.

Gzipped files (``.gz``) are inflated by ISA-L (``isal.igzip``: the same format and the same
``GzipFile`` interface as the standard library's ``gzip``, about three times faster to inflate on
PubMed's files, which matters when the pre-filter turns most records down: 3 µs instead of 9 µs
per 5-kB record, see ``benchmarks/batch_bench.py``).

A truncated gzip stream raises ``EOFError``; a corrupt one ``OSError`` (bad header or checksum) or
the inflater's own error (``zlib.error`` from the standard library, ``IsalError`` from ISA-L), which
are neither. Readers catch :data:`READ_ERRORS` and end the file with a fatal ``Problem``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, cast

from isal import igzip
from isal.igzip_lib import IsalError

# (isal's type stubs declare IsalError as an instance and igzip.open untyped)
READ_ERRORS: tuple[type[Exception], ...] = (OSError, EOFError, zlib.error, cast(type[Exception], IsalError))
_igzip_open = cast(Callable[[Path, str], IO[bytes]], igzip.open)


def open_gzip(path: Path) -> IO[bytes]:
    """A gzipped file, decompressed as it is read (seekable, like ``gzip.open``)."""
    return _igzip_open(path, "rb")
