"""Compare the course's detectors from what their notebooks record (``mcvp.record``).

Runs the detector notebooks of Chapters 7 and 8 headless with ``mcvp.runner`` (each in a fresh
kernel, its own results file), then prints one Markdown table: mAP@0.5, COCO AP@[.5:.95],
parameters and CPU inference time per image, and writes it to ``--out``/detectors.md.

    .venv/bin/python benchmarks/detectors.py --smoke            # minutes, synthetic stand-in
    .venv/bin/python benchmarks/detectors.py --out runs/full    # full mode, the real data

Notebooks whose optional package is missing (YOLOv8 needs ``ultralytics``) leave their row empty.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mcvp import runner

ROOT = Path(__file__).resolve().parents[1]
DETECTORS = (
    "Chapter07/Training_RCNN.ipynb",
    "Chapter07/Training_Fast_R_CNN.ipynb",
    "Chapter08/Training_Faster_RCNN.ipynb",
    "Chapter08/Training_YOLO.ipynb",
    "Chapter08/Training_SSD.ipynb",
    "Chapter08/Training_YOLO_v8.ipynb",
    "Chapter08/Training_EfficientDet.ipynb",
)


def comparison(runs: list[runner.NotebookRun]) -> str:
    lines = ["| Detector | mAP@0.5 | AP@[.5:.95] | Parameters | CPU ms/image | Data | Notebook |",
             "| --- | ---: | ---: | ---: | ---: | --- | --- |"]  # fmt: skip
    for run in runs:
        got = run.results
        if "map50" not in got:
            why = run.error or "not recorded (optional package missing?)"
            lines.append(f"| — | | | | | | {run.notebook}: {run.status}, {why} |")
            continue
        lines.append(
            f"| {got.get('detector', '?')} | {got['map50']:.3f} | {got['map_coco']:.3f} | "
            f"{got.get('parameters', 0):,} | {got.get('ms_per_image', float('nan')):.1f} | "
            f"{run.data_source} | {run.notebook} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="smoke mode (MCVP_SMOKE=1)")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "detectors")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per notebook")
    args = parser.parse_args()
    env = {"MCVP_SMOKE": "1" if args.smoke else "0", "OMP_NUM_THREADS": str(os.cpu_count() or 1)}
    if args.smoke:  # offline: the data neither cached nor mirrored becomes the stand-in
        env["MCVP_OFFLINE"] = "1"
    notebooks = [ROOT / nb for nb in DETECTORS]
    runs = runner.run_all(notebooks, ROOT, args.out, env, args.timeout, jobs=1)
    table = comparison(runs)
    (args.out / "detectors.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
