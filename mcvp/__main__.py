"""Command line of the course helpers.

- ``python -m mcvp sync [--check]``: the README course map and every notebook's links;
- ``python -m mcvp run [CHAPTER or NOTEBOOK ...] [--smoke] [--offline] [--mirror DIR] [--out DIR]
  [--jobs N] [--timeout S]``:
  execute notebooks headless and write their outputs and results (see :mod:`mcvp.runner`);
- ``python -m mcvp publish RUN_DIR [--readme README.md]``: the README's results section from a run.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mcvp import course, runner


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcvp", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser(
        "sync", help="regenerate the README course map and every notebook's Colab/pip links"
    )
    sync.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    sync.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    run = commands.add_parser("run", help="execute notebooks headless and keep their results")
    run.add_argument("targets", nargs="*", help="chapters (Chapter01) or notebooks; default all")
    run.add_argument("--smoke", action="store_true", help="smoke mode (MCVP_SMOKE=1)")
    run.add_argument("--offline", action="store_true", help="no downloads (MCVP_OFFLINE=1)")
    run.add_argument("--mirror", type=Path, help="a local data mirror (MCVP_DATA_MIRROR)")
    run.add_argument("--out", type=Path, default=Path("runs"), help="output folder (runs/)")
    run.add_argument("--jobs", type=int, default=1, help="notebooks run at once (1)")
    run.add_argument("--timeout", type=float, default=1800, help="seconds per notebook (1800)")
    run.add_argument("--root", type=Path, default=Path.cwd(), help="repository root")
    publish = commands.add_parser("publish", help="the README's results table from a run folder")
    publish.add_argument("run_dir", type=Path, help="the --out folder of python -m mcvp run")
    publish.add_argument("--readme", type=Path, default=Path("README.md"), help="README.md")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run_notebooks(args, argv if argv is not None else sys.argv[1:])
    if args.command == "publish":
        runner.publish(args.run_dir, args.readme)
        print(f"{args.readme}: results section from {args.run_dir}")
        return 0

    changed = course.sync(args.root, check=args.check)
    verb = "out of date" if args.check else "updated"
    for path in changed:
        print(f"{verb}: {path}")
    if not changed:
        print("README course map and notebook links are up to date")
    return 1 if (args.check and changed) else 0


def select(root: Path, targets: list[str]) -> list[Path]:
    """The notebooks named by ``targets`` (chapters or notebook paths), in course order."""
    every = [(root / nb).resolve() for nb in course.notebooks(root)]
    if not targets:
        return every
    chosen = []
    for target in targets:
        path = (root / target).resolve()
        matches = [nb for nb in every if nb == path or path in nb.parents]
        if not matches:
            raise SystemExit(f"no notebook matches {target!r}")
        chosen += [nb for nb in matches if nb not in chosen]
    return chosen


def run_notebooks(args, argv: list[str]) -> int:
    from tqdm import tqdm

    notebooks = select(args.root, args.targets)
    env = {"MCVP_SMOKE": "1" if args.smoke else "0"}
    if args.offline:  # with --smoke: data neither cached nor mirrored becomes a stand-in
        env["MCVP_OFFLINE"] = "1"
    if args.mirror:
        env["MCVP_DATA_MIRROR"] = str(args.mirror.resolve())
    if args.jobs > 1 and "OMP_NUM_THREADS" not in os.environ:  # share the cores, do not fight
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // args.jobs))
    args.out.mkdir(parents=True, exist_ok=True)
    mode = "smoke" if args.smoke else "full"
    runner.write_run_info(args.out, mode, env, " ".join(["python -m mcvp", *argv]))
    bar = tqdm(total=len(notebooks), unit="notebook")

    def progress(run: runner.NotebookRun) -> None:
        bar.update()
        if run.status != "passed":
            bar.write(f"{run.status}: {run.notebook}: {run.error}")

    runs = runner.run_all(notebooks, args.root, args.out, env, args.timeout, args.jobs, progress)
    bar.close()
    passed = sum(run.status == "passed" for run in runs)
    print(f"{passed} of {len(runs)} notebooks passed; results in {args.out / 'results.md'}")
    return 0 if passed == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
