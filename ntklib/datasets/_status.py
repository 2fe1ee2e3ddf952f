"""What is there, what is missing, and getting it: :func:`status` and :func:`fetch`.

The book's pipeline calls :func:`fetch` before executing a section, so it is
cheap when everything is in place (file digests are cached per process by
path, size, mtime and inode) and never raises because a data set is missing
or a download failed: that goes into the returned :class:`DatasetStatus`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import _download
from ._errors import DataError
from ._paths import resolve_root
from ._registry import MIRRORS, REGISTRY

#: Every data set the book uses, in the order of the status table.
DATASETS: tuple[str, ...] = ("mnist", "fashion-mnist", "cifar10", "uci", "graphs")

#: Data sets whose absence is not an error: the book substitutes another one.
OPTIONAL = {"cifar10": "fashion-mnist"}

# (name, root, mirrors) -> the failure of a download attempted in this process:
# a data set that could not be had is not retried on every call.
_FAILED: dict[tuple[str, str, tuple[str, ...]], str] = {}


@dataclass(frozen=True)
class DatasetStatus:
    """The state of one data set in one data directory."""

    name: str
    title: str
    state: str  # "verified" | "missing" | "partial" (uci, graphs) | "corrupt"
    detail: str  # one line
    fix: str  # the command or download that provides it; "" when verified
    size: int | None  # bytes of the verified files present; None when nothing is
    licence: str
    files: tuple[int, int] = (0, 0)  # (verified files, required files)
    where: str = ""  # directory the files are (or would be) in
    download_size: int | None = None  # bytes to download when missing, if known

    @property
    def ok(self) -> bool:
        """Verified, or an optional data set that is absent (its stand-in is used)."""
        return self.state == "verified" or (self.name in OPTIONAL and self.state == "missing")


def _check(name: str, path: Path, expected: Sequence[str]) -> str | None:
    """None if ``path`` is acceptable, else a one-line reason."""
    try:
        if expected:
            actual = _download.sha256sum(path)
            return None if actual in expected else f"sha256 {actual[:12]}... is not the canonical file's"
        if name == "cifar10":  # no per-file digest: the record structure, by size (cheap)
            from . import cifar, images
            size = path.stat().st_size
            want = images.CIFAR10_BATCH_RECORDS * cifar.RECORD_BYTES
            return None if size == want else f"{size} bytes, expected {want}"
    except DataError as e:
        return str(e).splitlines()[0]
    return None


def status(name: str, data_dir: str | os.PathLike | None = None) -> DatasetStatus:
    """State of data set ``name`` (one of :data:`DATASETS`) in ``data_dir``; never downloads."""
    if name not in REGISTRY:
        raise ValueError(f"unknown data set {name!r}; choose from {list(DATASETS)}")
    spec = REGISTRY[name]
    root = resolve_root(data_dir)
    folder = root / spec.folder
    found, missing = _download.locate(spec, folder)
    bad = {}
    for fspec in spec.files:
        if fspec.name in found:
            reason = _check(name, found[fspec.name], _download.expected_digests(spec, folder, fspec))
            if reason is not None:
                bad[fspec.name] = reason
    n = len(spec.files)
    good = [found[f] for f in found if f not in bad]
    size = sum(p.stat().st_size for p in good) if good else None
    outside = [p.parent for p in found.values() if folder not in p.parents]
    where = str(outside[0]) if outside and len(outside) == len(found) else str(folder)
    first_url = (MIRRORS.get(name) or [""])[0]
    source = (first_url + spec.archive.name if spec.archive is not None and first_url
              else first_url or spec.homepage)
    fetch = _download.fetch_command(name)
    archive = folder / spec.archive.name if spec.archive is not None else None
    common = dict(name=name, title=spec.title, licence=spec.licence, files=(len(good), n),
                  where=where, download_size=spec.download_size)
    if bad:
        rel, reason = next(iter(bad.items()))
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        return DatasetStatus(state="corrupt", size=size, **common,
                             detail=f"{found[rel]}: {reason}{more}",
                             fix=f"delete {found[rel]}{more}, then run `{fetch}`")
    if not missing:
        how = ("sha256 verified" if all(_download.expected_digests(spec, folder, f) for f in spec.files)
               else "record sizes checked")
        return DatasetStatus(state="verified", size=size, fix="", **common,
                             detail=f"{n} files, {how}")
    state = "partial" if found and name in ("uci", "graphs") else "missing"
    detail = f"{len(missing)} of {n} files missing, e.g. {folder / missing[0].name}"
    if archive is not None and archive.is_file():
        detail += f"; {archive.name} is present and will be unpacked"
    fix = f"`{fetch}` (from {source})"
    if name == "cifar10":
        fix += f", or put {spec.archive.name} into {folder}; otherwise Fashion-MNIST stands in"
    elif name == "fashion-mnist":
        fix += ", or apt-get install dataset-fashion-mnist"
    failure = next((v for k, v in _FAILED.items() if k[0] == name and k[1] == str(root)), None)
    if failure:
        detail += f"; download failed: {failure}"
    return DatasetStatus(state=state, size=size, detail=detail, fix=fix, **common)


def fetch(names: Iterable[str] | str | None = None, data_dir: str | os.PathLike | None = None,
          *, mirrors: dict[str, Sequence[str]] | None = None, retry: bool = False) -> list[DatasetStatus]:
    """Download, unpack and verify whatever of ``names`` (default: all) is missing.

    Returns the final :func:`status` of each.  Never raises for a data set
    that is missing, damaged or cannot be downloaded: the status says so
    (``state`` and ``detail``) and how to fix it.  A download that failed is
    not retried in the same process unless ``retry``.  ``mirrors`` overrides
    :data:`MIRRORS` per data set.  Raises ``ValueError`` for an unknown name.
    """
    names = list(DATASETS if names is None else [names] if isinstance(names, str) else names)
    for name in names:
        if name not in REGISTRY:
            raise ValueError(f"unknown data set {name!r}; choose from {list(DATASETS)}")
    root = resolve_root(data_dir)
    out = []
    for name in names:
        st = status(name, data_dir)
        if st.state in ("missing", "partial"):
            urls = list((mirrors or {}).get(name, MIRRORS.get(name, ())))
            key = (name, str(root), tuple(urls))
            if retry or key not in _FAILED:
                _FAILED.pop(key, None)
                _download.remove_stale_temporaries(root)
                _download.remove_stale_temporaries(root / REGISTRY[name].folder)
                try:
                    _download.ensure_files(name, data_dir, download=True, mirrors=urls)
                except (DataError, OSError) as e:
                    _FAILED[key] = _summary(e)
                st = status(name, data_dir)
        out.append(st)
    return out


def _summary(e: BaseException) -> str:
    """The most telling line of a (multi-line) download error, with its first detail line."""
    lines = [line.rstrip() for line in str(e).splitlines() if line.strip()]
    keys = ("Error", "rejected", "interrupted", "sha256", "Content-Length")
    i = next((k for k, line in enumerate(lines) if any(w in line for w in keys)), 0)
    text = lines[i].strip() if lines else type(e).__name__
    if i + 1 < len(lines) and lines[i + 1].startswith("  ") and "rejected" in text:
        text += " " + lines[i + 1].strip()
    return text[:400]
