"""``python -m ntklib data [--fetch [NAMES ...]]``: the data sets' state as a table, and fetching them."""

from __future__ import annotations

import argparse
import sys

from ._paths import ENV_VAR, data_dir
from ._status import DATASETS, OPTIONAL, DatasetStatus, fetch, status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the ``data`` subcommand."""
    parser.add_argument("--fetch", nargs="*", metavar="NAME", default=None,
                        help="download, verify and unpack the named data sets, or all that are "
                             f"missing if none is named ({', '.join(DATASETS)})")


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return "-"  # unreachable


def table(statuses: list[DatasetStatus]) -> str:
    """The status table: dataset, state, files, size, where, fix."""
    rows = [("dataset", "state", "files", "size", "where", "fix")]
    for s in statuses:
        size = _size(s.size) if s.size is not None else (
            f"({_size(s.download_size)} download)" if s.download_size else "-")
        state = s.state + (f" (optional: {OPTIONAL[s.name]} stands in)"
                           if s.name in OPTIONAL and s.state == "missing" else "")
        rows.append((s.name, state, f"{s.files[0]}/{s.files[1]}", size, s.where, s.fix or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5] for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(line.rstrip() for line in lines)


def run(args: argparse.Namespace) -> int:
    """Print the table (after fetching if asked); 1 if any data set is missing or corrupt."""
    root = data_dir()
    print(f"data directory: {root}  (set ${ENV_VAR} to change it)", flush=True)
    if args.fetch is not None:
        names = args.fetch or list(DATASETS)
        unknown = [n for n in names if n not in DATASETS]
        if unknown:
            print(f"unknown data set(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}",
                  file=sys.stderr)
            return 2
        statuses = {s.name: s for s in fetch(names, retry=True)}
        statuses = [statuses.get(n) or status(n) for n in DATASETS]
    else:
        statuses = [status(n) for n in DATASETS]
    print(table(statuses))
    for s in statuses:
        if s.state != "verified":
            print(f"{s.name}: {s.detail}")
    # Anything missing or corrupt is a failure, a stand-in's original too: the book still runs on the stand-in,
    # but the data directory is not what the papers used.
    bad = [s.name for s in statuses if s.state != "verified"]
    if bad:
        standing_in = [f"{OPTIONAL[s.name]} stands in for {s.name}" for s in statuses if s.ok and s.state == "missing"]
        print(f"missing or corrupt: {', '.join(bad)} (see the fix column)"
              + (f"; the book still runs ({'; '.join(standing_in)})" if standing_in else ""), file=sys.stderr)
        return 1
    return 0



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ntklib data", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
