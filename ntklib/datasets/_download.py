"""Find, verify and (if allowed) download the canonical files of a data set.

Guarantees: a file is only ever visible under its final name once it is
complete and its sha256 matched (download to a temporary file in the same
directory, verify, then :func:`os.replace`, which is atomic on POSIX); on any
failure the temporary file is removed.  A file that is present but wrong is
an error, never re-downloaded or read silently.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from ._errors import DataCorruptError, DataError, DataMissingError
from ._paths import ENV_VAR, describe_root, resolve_root
from ._registry import MIRRORS, REGISTRY, DatasetSpec, FileSpec

_CHUNK = 1 << 20
TIMEOUT = 60.0  # seconds per blocking socket operation, not for the whole file
_USER_AGENT = "ntk-book-data/1 (+python urllib)"

# (path, size, mtime_ns, inode) -> sha256 hex: repeated loads in one process
# do not rehash files that did not change.
_HASH_CACHE: dict[tuple[str, int, int, int], str] = {}


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def sha256sum(path: str | os.PathLike) -> str:
    """Hex sha256 of a file (cached per process while size/mtime/inode are unchanged)."""
    path = Path(path)
    key = _stat_key(path)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(_CHUNK):
                h.update(block)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def verify_sha256(path: str | os.PathLike, expected: Sequence[str]) -> None:
    """Raise :class:`DataCorruptError` unless ``path`` has one of the ``expected`` digests."""
    if not expected:
        return
    actual = sha256sum(path)
    if actual not in expected:
        raise DataCorruptError(
            f"{path}: sha256 mismatch.\n  expected: {' or '.join(expected)}\n  actual:   {actual}\n"
            "The file is damaged or is not the canonical one; delete it so it can be "
            "downloaded again, or replace it with the original."
        )


def _progress(total: int | None, desc: str):
    """A tqdm bar on an interactive terminal outside CI; None otherwise (or without tqdm)."""
    if os.environ.get("CI") or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False)


def download_file(urls: Iterable[str], dest: str | os.PathLike,
                  sha256: Sequence[str] = (), *, timeout: float | None = None) -> Path:
    """Download the first of ``urls`` that yields a complete file with an accepted digest.

    Each URL is streamed to a temporary file next to ``dest``, hashed on the
    fly, and moved onto ``dest`` with :func:`os.replace` only if complete (as
    long as the announced Content-Length) and matching ``sha256``.  A failure
    (HTTP error, network error, short body, wrong digest) moves on to the next
    URL.  Raises :class:`DataMissingError` listing every attempt if all fail.
    """
    dest = Path(dest)
    timeout = TIMEOUT if timeout is None else timeout
    attempts = []
    for url in urls:
        try:
            _download_one(url, dest, sha256, timeout)
            return dest
        except (OSError, http.client.HTTPException, DataError) as e:
            attempts.append(f"{url}: {type(e).__name__}: {e}")
    raise DataMissingError(f"could not download {dest.name}:\n  " + "\n  ".join(attempts or ["no URL given"]))


def _download_one(url: str, dest: Path, sha256: Sequence[str], timeout: float) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                h, received = hashlib.sha256(), 0
                bar = _progress(total, dest.name)
                try:
                    while block := response.read(_CHUNK):
                        out.write(block)
                        h.update(block)
                        received += len(block)
                        if bar is not None:
                            bar.update(len(block))
                finally:
                    if bar is not None:
                        bar.close()
            out.flush()
            os.fsync(out.fileno())
        # http.client returns a short body without complaint when the server
        # closes early, so the length has to be checked here.
        if total is not None and received != total:
            raise DataCorruptError(f"transfer interrupted: got {received} of {total} bytes")
        digest = h.hexdigest()
        if sha256 and digest not in sha256:
            raise DataCorruptError(
                f"downloaded file has sha256 {digest}, expected {' or '.join(sha256)}")
        os.replace(tmp, dest)
        st = dest.stat()
        _HASH_CACHE[(str(dest.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)] = digest
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _extract_members(archive: Path, names: Iterable[str], folder: Path) -> None:
    """Copy the regular-file members ``names`` of a .tar.gz into ``folder``, atomically each.

    Members are streamed by name (never ``extractall``), so no path in the
    archive can write outside ``folder``.
    """
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for name in names:
                member = tar.getmember(name)
                if not member.isfile():
                    raise DataCorruptError(f"{archive}: member {name} is not a regular file")
                dest = folder / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
                try:
                    with os.fdopen(fd, "wb") as out, tar.extractfile(member) as src:
                        shutil.copyfileobj(src, out, _CHUNK)
                    os.replace(tmp, dest)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
    except KeyError as e:
        raise DataCorruptError(f"{archive}: archive has no member {e}") from None
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise DataCorruptError(f"{archive}: cannot unpack archive: {e}") from e


def _candidates(spec: DatasetSpec, folder: Path, f: FileSpec) -> list[Path]:
    return [folder / f.name] + [Path(d) / Path(f.name).name for d in spec.system_dirs]


def ensure_files(name: str, data_dir: str | os.PathLike | None = None, download: bool = True,
                 mirrors: Sequence[str] | None = None) -> dict[str, Path]:
    """Paths of the verified canonical files of image data set ``name``.

    Looks in ``<data_dir>/<folder>/`` and then in the spec's read-only system
    directories (Debian's Fashion-MNIST package).  Missing files are
    downloaded when ``download`` is true, from ``mirrors`` (default:
    ``MIRRORS[name]``) in order.  Returns ``{file name in spec: path}``.

    Raises :class:`DataMissingError` (what is needed, where, and ``$NTK_DATA_DIR``)
    or :class:`DataCorruptError` (present but wrong digest).
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown data set {name!r}; choose from {sorted(REGISTRY)}")
    spec = REGISTRY[name]
    root = resolve_root(data_dir)
    folder = root / spec.folder
    mirrors = list(MIRRORS.get(name, ()) if mirrors is None else mirrors)

    def locate() -> tuple[dict[str, Path], list[FileSpec]]:
        found, missing = {}, []
        for f in spec.files:
            path = next((p for p in _candidates(spec, folder, f) if p.is_file()), None)
            if path is None:
                missing.append(f)
            else:
                found[f.name] = path
        return found, missing

    found, missing = locate()
    failures: list[str] = []
    if missing and spec.archive is not None:
        failures = _from_archive(spec, folder, missing, mirrors, download)
        found, missing = locate()
    elif missing and download:
        for f in missing:
            try:
                download_file([m + Path(f.name).name for m in mirrors], folder / f.name, f.sha256)
            except DataError as e:
                failures.append(str(e))
        found, missing = locate()
    if missing:
        raise DataMissingError(_missing_message(spec, root, data_dir is not None, missing,
                                                mirrors, download, failures))
    for f in spec.files:
        verify_sha256(found[f.name], f.sha256)
    return found


def _from_archive(spec: DatasetSpec, folder: Path, missing: list[FileSpec],
                  mirrors: Sequence[str], download: bool) -> list[str]:
    """Unpack missing files from the spec's archive, downloading it first if allowed."""
    assert spec.archive is not None
    archive = folder / spec.archive.name
    downloaded = False
    if not archive.is_file():
        if not download:
            return []
        try:
            download_file([m + spec.archive.name for m in mirrors], archive, spec.archive.sha256)
            downloaded = True
        except DataError as e:
            return [str(e)]
    verify_sha256(archive, spec.archive.sha256)
    _extract_members(archive, [f.name for f in missing], folder)
    if downloaded:  # we fetched it only to unpack it; a user-supplied archive is left alone
        archive.unlink()
    return []


def _missing_message(spec: DatasetSpec, root: Path, explicit: bool, missing: list[FileSpec],
                     mirrors: Sequence[str], download: bool, failures: list[str]) -> str:
    folder = root / spec.folder
    lines = [f"{spec.title}: {len(missing)} required file(s) not found in data directory "
             f"{describe_root(root, explicit)}.",
             "Needed (put each file at exactly this path):"]
    lines += [f"  {folder / f.name}" for f in missing]
    if spec.archive is not None:
        lines.append(f"  (or the archive {folder / spec.archive.name}, which is unpacked into them)")
    if spec.system_dirs:
        lines.append("Also searched: " + ", ".join(spec.system_dirs))
    if not download:
        lines.append("Downloading was disabled (download=False).")
    elif not mirrors:
        lines.append("No download mirror is configured.")
    else:
        lines.append("Download failed from every mirror (" + ", ".join(mirrors) + "):")
        lines += ["  " + line for text in failures for line in text.splitlines()]
    lines.append(f"Get the files from {spec.homepage}, or set ${ENV_VAR} to a directory "
                 f"that contains {spec.folder}/ with them.")
    if spec.hint:
        lines.append(spec.hint)
    return "\n".join(lines)
