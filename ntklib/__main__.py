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
    args = p.parse_args(argv)

    if args.cmd == "list":
        for s in book.SECTIONS:
            print(f"{s.stem:12s} {s.title:45s} " + "  ".join(f"{k}: {v}" for k, v in s.runtime.items()))
        return 0
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


if __name__ == "__main__":
    sys.exit(main())
