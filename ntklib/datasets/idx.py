"""Reader for the IDX format of MNIST and Fashion-MNIST.

Format (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"): a 4-byte magic
number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32
dimensions, then the data in C order.  MNIST uses type 0x08 (unsigned byte):
magic 2051 (0x00000803) for 3-D image files and 2049 (0x00000801) for 1-D
label files.  Files ending in ``.gz`` are decompressed transparently.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ._errors import DataCorruptError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

# IDX type code -> numpy dtype (multi-byte types are big-endian).
_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
           0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_bytes(path: Path) -> bytes:
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise DataCorruptError(f"{path}: not a valid gzip file ({type(e).__name__}: {e})") from e


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into an array of its declared shape and type.

    ``magic``, if given, is the required magic number (e.g. ``IMAGES_MAGIC``).
    The payload must have exactly the length the header announces.  Any
    violation raises :class:`DataCorruptError` naming the file.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataCorruptError(f"{path}: only {len(data)} bytes, too short for an IDX header")
    found = int.from_bytes(data[:4], "big")
    if magic is not None and found != magic:
        raise DataCorruptError(f"{path}: wrong IDX magic number {found} (0x{found:08x}), "
                               f"expected {magic} (0x{magic:08x})")
    zero, type_code, ndim = data[0:2], data[2], data[3]
    if zero != b"\0\0" or type_code not in _DTYPES or ndim == 0:
        raise DataCorruptError(f"{path}: not an IDX file (magic 0x{found:08x})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataCorruptError(f"{path}: truncated IDX header ({len(data)} bytes, need {header})")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = _DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataCorruptError(
            f"{path}: payload is {len(data) - header} bytes but the header ({shape}, "
            f"{dtype}) announces {expected}" + (" (truncated)" if len(data) - header < expected else ""))
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)  # native order, writable
