"""Damaged files for reader tests."""

from __future__ import annotations

import zlib


def corrupt_deflate(packed: bytes) -> bytes:
    """``packed`` (gzip) with one byte of its deflate data changed so that inflating it fails (the
    first such byte; a change within a block's code tables is found in the first few bytes)."""
    for at in range(10, len(packed) - 8):
        damaged = packed[:at] + bytes([packed[at] ^ 0x5A]) + packed[at + 1:]
        try:
            zlib.decompress(damaged, 31)
        except zlib.error as exc:
            if "invalid" in str(exc):  # the inflater's error, not the checksum's or a cut stream's
                return damaged
    raise AssertionError("no spot found")
