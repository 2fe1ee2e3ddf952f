"""Command line for ntk-book: ``python -m ntklib --help``. The Makefile targets call this."""
from __future__ import annotations

import argparse
import sys

from . import book


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ntklib", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the section notebooks and their expected wall time at each scale")
    for name, text in (("run", "execute section notebooks with papermill (all if none given)"),
                       ("book", "execute every section notebook, then build the HTML book")):
        q = sub.add_parser(name, help=text)
        if name == "run":
            q.add_argument("sections", nargs="*", help="e.g. 02_ntk or 02 (default: all)")
        q.add_argument("--scale", choices=book.SCALES, default="ci",
                       help="ci: small, minutes on a laptop (default); full: the published scale")
        q.add_argument("--seed", type=int, default=None, help="override each notebook's default seed")
    sub.add_parser("build", help="build the HTML book from already executed notebooks")
    sub.add_parser("data", help="show the data directory and which datasets are present or missing")
    q = sub.add_parser("determinism", help="re-run sections and check that every recorded check value is identical")
    q.add_argument("sections", nargs="+", help="sections already executed at --scale, e.g. 02 03")
    q.add_argument("--scale", choices=book.SCALES, default="ci")
    args = p.parse_args(argv)

    if args.cmd == "list":
        for s in book.sections():
            runtime = "  ".join(f"{k}: {v}" for k, v in s.runtime.items()) or "runtime not recorded"
            print(f"{s.stem:14s} {s.title:60s} {runtime}")
        return 0
    if args.cmd == "data":
        return show_data()
    if args.cmd == "determinism":
        bad = 0
        for stem in args.sections:
            diff = book.rerun_and_compare(stem, args.scale)
            print(f"[ntk-book] {stem}: " + ("identical check values on re-run" if not diff else
                                            "DIFFERENT on re-run:\n  " + "\n  ".join(diff)), flush=True)
            bad += bool(diff)
        return 1 if bad else 0
    if args.cmd == "build":
        book.build()
        return 0
    failures = book.run(getattr(args, "sections", []), args.scale, args.seed)
    if failures:
        print(f"[ntk-book] {failures} notebook(s) failed; the book was not built", file=sys.stderr)
        return 1
    if args.cmd == "book":
        book.build()
    return 0


def show_data() -> int:
    """Print the data directory and, per dataset, whether its files are present and verified."""
    from . import datasets
    root = datasets.data_dir()
    print(f"data directory: {root}  (set ${datasets.ENV_VAR} to change it)")
    for name in datasets.IMAGE_DATASETS:
        try:
            datasets.ensure_files(name, download=False)
            status = "present, checksums verified"
        except datasets.DataMissingError:
            status = "missing (downloaded on first use where a URL exists)"
        except datasets.DataError as e:
            status = f"CORRUPT: {str(e).splitlines()[0]}"
        print(f"  {name:14s} {status}")
    try:
        names = datasets.uci_benchmark_names()
        have = sum((root / "uci" / n / f"{n}_R.dat").exists() for n in names)
        print(f"  {'uci':14s} {have} of the {len(names)} benchmark datasets present")
    except datasets.DataError:
        print(f"  {'uci':14s} missing (expected under {root / 'uci'})")
    have = [g for g in datasets.graph_dataset_names() if (root / "graphs" / g / f"{g}.txt").exists()]
    print(f"  {'graphs':14s} {len(have)} of 6 present: {', '.join(have) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
