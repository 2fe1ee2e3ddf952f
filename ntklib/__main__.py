"""Command line for ntk-book: ``python -m ntklib --help``. The Makefile targets call this."""
from __future__ import annotations

import argparse
import sys

from .book import pipeline as book


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
    q = sub.add_parser("record", help="execute sections at full scale into the committed record (records/full/)")
    q.add_argument("sections", nargs="*", help="e.g. 03 05 (default: all)")
    q.add_argument("--scale", choices=book.SCALES, default="full")
    q.add_argument("--seed", type=int, default=None, help="override each notebook's default seed")
    sub.add_parser("build", help="build the HTML book from already executed notebooks")
    from .datasets import _cli as data_cli
    data_cli.add_arguments(sub.add_parser(
        "data", help="show which datasets are verified, missing or corrupt (exit 1 if one is "
                     "needed and unusable); --fetch downloads them"))
    q = sub.add_parser("determinism", help="re-run sections and check that every recorded check value is identical")
    q.add_argument("sections", nargs="+", help="sections already executed at --scale, e.g. 02 03")
    q.add_argument("--scale", choices=book.SCALES, default="ci")
    args = p.parse_args(argv)

    if args.cmd == "list":
        from .book import record
        for s in book.sections():
            runtime = "  ".join(f"{k}: {v}" for k, v in s.runtime.items()) or "runtime not recorded"
            rec = record.load(s.stem)   # the measured time beside the declared one
            measured = ("no full-scale record" if rec is None else
                        f"record: {rec['wall_seconds'] / 60:.1f} min{' (stale)' if rec['stale'] else ''}")
            print(f"{s.stem:14s} {s.title:52.52s} {runtime}  [{measured}]")
        return 0
    if args.cmd == "data":
        return show_data(args)
    if args.cmd == "determinism":
        bad = 0
        for stem in args.sections:
            diff = book.rerun_and_compare(stem, args.scale)
            print(f"[ntk-book] {stem}: " + ("identical check values on re-run" if not diff else
                                            "DIFFERENT on re-run:\n  " + "\n  ".join(diff)), flush=True)
            bad += bool(diff)
        return 1 if bad else 0
    if args.cmd == "record":
        return 1 if book.record(args.sections, args.scale, args.seed) else 0
    if args.cmd == "build":
        book.build()
        return 0
    failures = book.run(getattr(args, "sections", []), args.scale, args.seed)
    if args.cmd == "book":  # built even when sections failed: their pages say why, and the exit code stays 1
        book.build()
    if failures:
        print(f"[ntk-book] {failures} section(s) failed (see above and their pages)", file=sys.stderr)
        return 1
    return 0


def show_data(args=None) -> int:
    """``python -m ntklib data [--fetch ...]``: see :mod:`ntklib.datasets._cli`."""
    from .datasets import _cli as data_cli
    return data_cli.run(args if args is not None else argparse.Namespace(fetch=None))


if __name__ == "__main__":
    sys.exit(main())
