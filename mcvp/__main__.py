"""Command line: ``python -m mcvp sync [--check]`` (README course map and notebook links)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcvp import course


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcvp", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser(
        "sync", help="regenerate the README course map and every notebook's Colab/pip links"
    )
    sync.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    sync.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    args = parser.parse_args(argv)

    changed = course.sync(args.root, check=args.check)
    verb = "out of date" if args.check else "updated"
    for path in changed:
        print(f"{verb}: {path}")
    if not changed:
        print("README course map and notebook links are up to date")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
