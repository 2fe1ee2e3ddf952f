"""Exceptions raised by :mod:`ntklib.datasets`.

Both concrete errors also derive from the builtin exception a caller would
naturally catch (``FileNotFoundError`` / ``ValueError``), so generic handlers
keep working, while ``except DataError`` catches every data problem at once.
"""

from __future__ import annotations

import contextlib
import os


class DataError(Exception):
    """Base class: a data set is unavailable or its files are not what we expect.

    Raised as such for a file that exists but cannot be read (permissions).
    """


class DataMissingError(DataError, FileNotFoundError):
    """Required files are absent and could not be downloaded.

    The message lists every missing file with the full path where it must go,
    and how to point the library elsewhere (``NTK_DATA_DIR``).
    """


class DataCorruptError(DataError, ValueError):
    """A file exists but is not valid: wrong checksum, truncated, bad header, ...

    The message names the file and says exactly what is wrong with it.
    """


@contextlib.contextmanager
def reading(path: str | os.PathLike, fix: str = ""):
    """Turn an unreadable or undecodable ``path`` into a :class:`DataError` naming it.

    ``FileNotFoundError`` passes through: callers report missing files with
    their own, more specific message.
    """
    hint = f" Fix: {fix}" if fix else ""
    try:
        yield
    except UnicodeDecodeError as e:  # before ValueError handlers of the caller see it
        raise DataCorruptError(f"{path}: not valid UTF-8 text (byte {e.start}: {e.reason}); "
                               f"the file is damaged or not the canonical one.{hint}") from e
    except FileNotFoundError:
        raise
    except (PermissionError, IsADirectoryError) as e:
        raise DataError(f"{path}: cannot read the file ({e.strerror}); check its permissions "
                        f"(e.g. chmod u+r), or set $NTK_DATA_DIR to a readable copy.{hint}") from e
