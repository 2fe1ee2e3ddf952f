"""Exceptions raised by :mod:`ntklib.datasets`.

Both concrete errors also derive from the builtin exception a caller would
naturally catch (``FileNotFoundError`` / ``ValueError``), so generic handlers
keep working, while ``except DataError`` catches every data problem at once.
"""


class DataError(Exception):
    """Base class: a data set is unavailable or its files are not what we expect."""


class DataMissingError(DataError, FileNotFoundError):
    """Required files are absent and could not be downloaded.

    The message lists every missing file with the full path where it must go,
    and how to point the library elsewhere (``NTK_DATA_DIR``).
    """


class DataCorruptError(DataError, ValueError):
    """A file exists but is not valid: wrong checksum, truncated, bad header, ...

    The message names the file and says exactly what is wrong with it.
    """
