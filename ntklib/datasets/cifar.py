"""Reader for the binary version of CIFAR-10 (Krizhevsky 2009).

Format (https://www.cs.toronto.edu/~kriz/cifar.html, "Binary version"): a
sequence of 3073-byte records, each one label byte (0-9) followed by 3072
pixel bytes: the 1024 red, then 1024 green, then 1024 blue values of a 32x32
image, each plane row-major.  The binary files are plain bytes, so nothing is
ever unpickled (the "python version" of CIFAR-10 would require ``pickle``,
which can execute code from a tampered file).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._errors import DataCorruptError

RECORD_BYTES = 1 + 3 * 32 * 32
NUM_CLASSES = 10
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
               "dog", "frog", "horse", "ship", "truck")


def read_cifar_batch(path: str | os.PathLike,
                     records: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read one ``*.bin`` batch -> (images uint8 (N, 32, 32, 3), labels uint8 (N,)).

    ``records``, if given, is the required number of records (10000 for the
    canonical batches).  A size that is not a whole number of records, a
    record-count mismatch, or a label outside 0-9 raises
    :class:`DataCorruptError` naming the file.
    """
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    n, rest = divmod(raw.size, RECORD_BYTES)
    if rest or n == 0:
        raise DataCorruptError(f"{path}: {raw.size} bytes is not a positive whole number of "
                               f"{RECORD_BYTES}-byte CIFAR-10 records (truncated or not a CIFAR-10 batch)")
    if records is not None and n != records:
        raise DataCorruptError(f"{path}: {n} records, expected {records}")
    table = raw.reshape(n, RECORD_BYTES)
    labels = table[:, 0].copy()
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise DataCorruptError(f"{path}: record {bad[0]} has label {labels[bad[0]]}, "
                               f"outside 0..{NUM_CLASSES - 1} ({bad.size} bad records)")
    # (N, 3, 32, 32) channel planes -> (N, 32, 32, 3) height-width-channel.
    images = np.ascontiguousarray(table[:, 1:].reshape(n, 3, 32, 32).transpose(0, 2, 3, 1))
    return images, labels
