"""Find, verify and (if allowed) download the canonical files of a data set.

Guarantees:

* a file is only ever visible under its final name once it is complete and
  its sha256 matched: downloads go to a temporary ``.part`` file in the same
  directory and are moved with :func:`os.replace` (atomic on POSIX); on any
  failure the temporary file is removed;
* archives (``.tar.gz``, ``.zip``) are unpacked into a temporary directory
  next to the target, every extracted file is verified, and only then moved
  into place; only members named in the registry are written, to paths built
  from the registry, so no member path can escape the target;
* a download that can be checked neither by a digest nor by its announced
  length is refused, so a truncated body never gets a final name;
* temporary files carry the pid of their writer, and those of dead processes
  (a killed download) are removed on the next run;
* a file that is present but wrong is an error, never re-downloaded or read
  silently.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from ._errors import DataCorruptError, DataError, DataMissingError, reading
from ._paths import ENV_VAR, describe_root, resolve_root
from ._registry import MIRRORS, REGISTRY, DatasetSpec, FileSpec

_CHUNK = 1 << 20
TIMEOUT = 60.0  # seconds per blocking socket operation, not for the whole file
_USER_AGENT = "ntk-book-data/1 (+python urllib)"

# (path, size, mtime_ns, inode) -> sha256 hex: repeated loads in one process
# do not rehash files that did not change.
_HASH_CACHE: dict[tuple[str, int, int, int], str] = {}


def fetch_command(name: str) -> str:
    """The one command that downloads and verifies data set ``name``."""
    return f"python -m ntklib data --fetch {name}"


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def sha256sum(path: str | os.PathLike) -> str:
    """Hex sha256 of a file (cached per process while size/mtime/inode are unchanged)."""
    path = Path(path)
    key = _stat_key(path)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with reading(path), open(path, "rb") as f:
            while block := f.read(_CHUNK):
                h.update(block)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def verify_sha256(path: str | os.PathLike, expected: Sequence[str], fix: str = "") -> None:
    """Raise :class:`DataCorruptError` unless ``path`` has one of the ``expected`` digests."""
    if not expected:
        return
    actual = sha256sum(path)
    if actual not in expected:
        raise DataCorruptError(
            f"{path}: sha256 mismatch.\n  expected: {' or '.join(expected)}\n  actual:   {actual}\n"
            "The file is damaged or is not the canonical one; "
            + (f"delete it, then run `{fix}`." if fix else
               "delete it so it can be downloaded again, or replace it with the original."))


def _progress(total: int | None, desc: str):
    """A tqdm bar on an interactive terminal outside CI; None otherwise (or without tqdm)."""
    if os.environ.get("CI") or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, leave=False)


# --------------------------------------------------------------------------- temporary files

# .<name>.<pid>-<random>.part (files) and .<name>.<pid>-<random>.tmp (directories).
_TEMP_RE = re.compile(r"^\..+\.(\d+)-[A-Za-z0-9_]+\.(part|tmp)$")
_LEGACY_PART_RE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.part$")  # before the pid was recorded
_LEGACY_AGE = 3600.0  # seconds


def _temp_prefix(name: str) -> str:
    return f".{name}.{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # ours: possibly in use by another thread
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files/directories directly in ``folder`` left by dead writers.

    A download or unpacking killed mid-way (Ctrl-C twice, OOM, power loss)
    cannot clean up after itself; its pid, recorded in the name, tells that
    nobody is writing there any more.  Returns what was removed.
    """
    removed = []
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return removed
    for p in entries:
        m = _TEMP_RE.match(p.name)
        if m:
            stale = not _pid_alive(int(m.group(1)))
        elif _LEGACY_PART_RE.match(p.name):
            try:
                stale = time.time() - p.stat().st_mtime > _LEGACY_AGE
            except FileNotFoundError:
                continue
        else:
            continue
        if stale:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed


# --------------------------------------------------------------------------- downloads

def download_file(urls: Iterable[str], dest: str | os.PathLike,
                  sha256: Sequence[str] = (), *, timeout: float | None = None,
                  allow_unverified: bool = False) -> Path:
    """Download the first of ``urls`` that yields a complete file with an accepted digest.

    Each URL is streamed to a temporary file next to ``dest``, hashed on the
    fly, and moved onto ``dest`` with :func:`os.replace` only if complete (as
    long as the announced Content-Length) and matching ``sha256``.  Without a
    digest and without a Content-Length a short body cannot be told from a
    whole one, so such a response is refused unless ``allow_unverified``
    (for archives whose every member is verified afterwards).  A failure
    (HTTP error, network error, short body, wrong digest) moves on to the
    next URL.  Raises :class:`DataMissingError` listing every attempt if all fail.
    """
    dest = Path(dest)
    timeout = TIMEOUT if timeout is None else timeout
    attempts = []
    for url in urls:
        try:
            _download_one(url, dest, sha256, timeout, allow_unverified)
            return dest
        except (OSError, http.client.HTTPException, DataError) as e:
            attempts.append(f"{url}: {type(e).__name__}: {e}")
    raise DataMissingError(f"could not download {dest.name}:\n  " + "\n  ".join(attempts or ["no URL given"]))


def _download_one(url: str, dest: Path, sha256: Sequence[str], timeout: float,
                  allow_unverified: bool) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(dest.parent)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=_temp_prefix(dest.name), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                if total is None and not sha256 and not allow_unverified:
                    raise DataCorruptError(
                        "the server announces no Content-Length and no checksum is known, "
                        "so a truncated transfer could not be detected; refusing it")
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
        _HASH_CACHE[_stat_key(dest)] = digest
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- archives

def _safe_rel(rel: str) -> PurePosixPath:
    p = PurePosixPath(rel)
    if p.is_absolute() or not p.parts or any(part in ("", ".", "..") for part in p.parts):
        raise ValueError(f"unsafe path {rel!r} in the data set registry")
    return p


def _members(archive: Path):
    """Yield (member name, readable binary stream) for the regular files of a .tar.gz or .zip."""
    name = archive.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                mode = info.external_attr >> 16
                if info.is_dir() or (mode & 0o170000) not in (0, 0o100000):
                    continue  # directories, symlinks and devices are never written
                with zf.open(info) as src:
                    yield info.filename, src
    elif name.endswith((".tar.gz", ".tgz")):
        # Stream mode: one sequential pass, no seeking back through the gzip stream.
        with tarfile.open(archive, "r|gz") as tar:
            for member in tar:
                if member.isfile():
                    src = tar.extractfile(member)
                    if src is not None:
                        yield member.name, src
    else:
        raise ValueError(f"{archive}: unsupported archive type (expected .tar.gz or .zip)")


def _match(member: str, wanted: dict[str, FileSpec]) -> str | None:
    """The registry path that ``member`` provides: equal to it, or a trailing part of it.

    Archives put their files under a top folder (``dataset/`` in GIN's zip) or
    none (CIFAR-10, UCI); matching whole trailing path components covers both.
    """
    while member.startswith("./"):
        member = member[2:]
    parts = member.split("/")
    for k in range(len(parts)):
        rel = "/".join(parts[k:])
        if rel in wanted:
            return rel
    return None


def extract_verified(archive: Path, files: Sequence[FileSpec], folder: Path) -> list[Path]:
    """Unpack ``files`` from ``archive`` into ``folder``, verified, atomically.

    Members are streamed into a temporary directory next to ``folder`` and
    hashed on the way; a file with a digest in the registry must match it (a
    mismatching member is skipped in favour of a later one of the same name).
    Only when every file is present and verified are they moved into place:
    the whole directory with one rename if ``folder`` does not exist yet,
    else file by file (each :func:`os.replace` is atomic).  Raises
    :class:`DataCorruptError` naming the archive and what is missing or wrong.
    """
    wanted = {f.name: f for f in files}
    for rel in wanted:
        _safe_rel(rel)
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder.parent)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=_temp_prefix(folder.name), suffix=".tmp"))
    try:
        done: dict[str, str] = {}
        mismatched: dict[str, str] = {}
        try:
            for member, src in _members(archive):
                rel = _match(member, wanted)
                if rel is None or rel in done:
                    continue
                dest = staging / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                h = hashlib.sha256()
                with open(dest, "wb") as out:
                    while block := src.read(_CHUNK):
                        out.write(block)
                        h.update(block)
                digest, expected = h.hexdigest(), wanted[rel].sha256
                if expected and digest not in expected:
                    mismatched[rel] = digest
                    dest.unlink()
                    continue
                mismatched.pop(rel, None)
                done[rel] = digest
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as e:
            if isinstance(e, PermissionError):
                raise
            raise DataCorruptError(f"{archive}: cannot unpack archive ({type(e).__name__}: {e}); "
                                   "it is truncated or not the expected archive") from e
        absent = [rel for rel in wanted if rel not in done and rel not in mismatched]
        if mismatched or absent:
            lines = [f"  {rel}: sha256 {d}, expected {' or '.join(wanted[rel].sha256)}"
                     for rel, d in list(mismatched.items())[:5]]
            lines += [f"  {rel}: not in the archive" for rel in absent[:5]]
            more = len(mismatched) + len(absent) - len(lines)
            raise DataCorruptError(
                f"{archive}: {len(mismatched)} file(s) differ from the registry and "
                f"{len(absent)} are missing; nothing was unpacked.\n" + "\n".join(lines)
                + (f"\n  ... and {more} more" if more > 0 else ""))
        moved = []
        if not folder.exists():
            try:
                os.replace(staging, folder)  # one atomic rename of the whole verified tree
                moved = [folder / rel for rel in done]
            except OSError:  # another process created it meanwhile: move file by file below
                pass
        if not moved:
            for rel in done:
                dest = folder / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, dest)
                moved.append(dest)
        for rel, path in zip(done, moved, strict=True):
            _HASH_CACHE[_stat_key(path)] = done[rel]
        unpinned = {rel: d for rel, d in done.items() if not wanted[rel].sha256}
        if unpinned:
            _record_digests(folder, unpinned)
        return moved
    finally:
        shutil.rmtree(staging, ignore_errors=True)


#: Written next to files unpacked from a verified archive whose members have no
#: digest in the registry (CIFAR-10's batches): their digests, taken while
#: unpacking, so later loads can tell if a file changed since.
MANIFEST = "SHA256SUMS"


def recorded_digests(folder: Path) -> dict[str, str]:
    """{relative path: sha256} from ``folder``'s :data:`MANIFEST`, or {} if there is none."""
    path = folder / MANIFEST
    try:
        with reading(path):
            text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        text = ""
    out = {}
    for line in text.splitlines():
        digest, _, rel = line.partition("  ")
        if len(digest) == 64 and rel:
            out[rel] = digest
    return out


def _record_digests(folder: Path, digests: dict[str, str]) -> None:
    merged = {**recorded_digests(folder), **digests}
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=_temp_prefix(MANIFEST), suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write("".join(f"{d}  {rel}\n" for rel, d in sorted(merged.items())))
        os.replace(tmp, folder / MANIFEST)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def expected_digests(spec: DatasetSpec, folder: Path, f: FileSpec) -> tuple[str, ...]:
    """The registry's digests of ``f``, else the one recorded when it was unpacked, else ()."""
    if f.sha256:
        return f.sha256
    recorded = recorded_digests(folder).get(f.name) if spec.archive is not None else None
    return (recorded,) if recorded else ()


def _extract_members(archive: Path, names: Iterable[str], folder: Path) -> None:
    """Backwards-compatible wrapper: unpack the members ``names`` (no digests) into ``folder``."""
    extract_verified(archive, [FileSpec(n) for n in names], folder)


# --------------------------------------------------------------------------- ensure_files

def _candidates(spec: DatasetSpec, folder: Path, f: FileSpec) -> list[Path]:
    return [folder / f.name] + [Path(d) / Path(f.name).name for d in spec.system_dirs]


def locate(spec: DatasetSpec, folder: Path) -> tuple[dict[str, Path], list[FileSpec]]:
    """-> ({file name: first existing candidate path}, [specs of the missing files])."""
    found, missing = {}, []
    for f in spec.files:
        path = next((p for p in _candidates(spec, folder, f) if p.is_file()), None)
        if path is None:
            missing.append(f)
        else:
            found[f.name] = path
    return found, missing


def ensure_files(name: str, data_dir: str | os.PathLike | None = None, download: bool = True,
                 mirrors: Sequence[str] | None = None) -> dict[str, Path]:
    """Paths of the verified canonical files of data set ``name``.

    Looks in ``<data_dir>/<folder>/`` and then in the spec's read-only system
    directories (Debian's Fashion-MNIST package).  Missing files are
    downloaded when ``download`` is true, from ``mirrors`` (default:
    ``MIRRORS[name]``) in order; archive-backed sets (CIFAR-10, UCI, graphs)
    are unpacked from ``<folder>/<archive>`` if the user put it there, else
    from a downloaded copy that is deleted afterwards.  Returns
    ``{file name in spec: path}``.

    Raises :class:`DataMissingError` (what is needed, where, and ``$NTK_DATA_DIR``)
    or :class:`DataCorruptError` (present but wrong digest).
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown data set {name!r}; choose from {sorted(REGISTRY)}")
    spec = REGISTRY[name]
    root = resolve_root(data_dir)
    folder = root / spec.folder
    mirrors = list(MIRRORS.get(name, ()) if mirrors is None else mirrors)

    found, missing = locate(spec, folder)
    failures: list[str] = []
    if missing and spec.archive is not None:
        failures = _from_archive(spec, folder, missing, mirrors, download)
        found, missing = locate(spec, folder)
    elif missing and download:
        for f in missing:
            try:
                download_file([m + Path(f.name).name for m in mirrors], folder / f.name, f.sha256)
            except DataError as e:
                failures.append(str(e))
        found, missing = locate(spec, folder)
    if missing:
        raise DataMissingError(_missing_message(name, spec, root, data_dir is not None, missing,
                                                mirrors, download, failures))
    for f in spec.files:
        verify_sha256(found[f.name], expected_digests(spec, folder, f), fetch_command(name))
    return found


def _from_archive(spec: DatasetSpec, folder: Path, missing: list[FileSpec],
                  mirrors: Sequence[str], download: bool) -> list[str]:
    """Unpack missing files from the spec's archive, downloading it first if allowed."""
    assert spec.archive is not None
    archive = folder / spec.archive.name
    if archive.is_file():  # supplied by the user: used, and left in place
        verify_sha256(archive, spec.archive.sha256)
        extract_verified(archive, missing, folder)
        return []
    if not download:
        return []
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder.parent)
    # The download lives in a temporary directory, never under the archive's
    # final name: an unverified archive is only a carrier for verified files.
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=_temp_prefix(spec.folder + "-download"),
                                 suffix=".tmp"))
    try:
        try:
            path = download_file([m + spec.archive.name for m in mirrors], work / spec.archive.name,
                                 spec.archive.sha256, allow_unverified=spec.archive_unverified)
        except DataError as e:
            return [str(e)]
        try:
            extract_verified(path, missing, folder)
        except DataCorruptError as e:  # name the archive, not its temporary path
            return [f"downloaded {spec.archive.name} rejected: {str(e).split(': ', 1)[-1]}"]
        return []
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _missing_message(name: str, spec: DatasetSpec, root: Path, explicit: bool,
                     missing: list[FileSpec], mirrors: Sequence[str], download: bool,
                     failures: list[str]) -> str:
    folder = root / spec.folder
    lines = [f"{spec.title}: {len(missing)} required file(s) not found in data directory "
             f"{describe_root(root, explicit)}.",
             "Needed (put each file at exactly this path):"]
    lines += [f"  {folder / f.name}" for f in missing[:10]]
    if len(missing) > 10:
        lines.append(f"  ... and {len(missing) - 10} more")
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
    lines.append(f"Fix: run `{fetch_command(name)}`, or get the files from {spec.homepage}, "
                 f"or set ${ENV_VAR} to a directory that contains {spec.folder}/ with them.")
    if spec.hint:
        lines.append(spec.hint)
    return "\n".join(lines)
