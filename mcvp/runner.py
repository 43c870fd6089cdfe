"""Run notebooks headless and keep the evidence: ``python -m mcvp run``.

Each notebook runs in a fresh kernel, in its own process (so a per-notebook time limit can stop
it, kernel included), with its own ``MCVP_RESULTS`` file, so what it records with
:func:`mcvp.record` is kept per notebook. The run writes, into the output folder:

- ``<Chapter>/<Notebook>.ipynb``: the executed notebook, with outputs and plots;
- ``<Chapter>/<Notebook>.html``: the same, rendered;
- ``results.json`` and ``results.md``: per notebook its status, wall time, device, data source
  and recorded results; a failure names the cell and the error;
- ``run.json``: when, on which machine, in which mode and with which data the run was made.

:func:`publish` turns a run folder into the README's results section (``python -m mcvp
publish runs/…``), so the table there always comes from a real run.

A failing or timed-out notebook is reported and the others still run. Cells that cannot run here
(tagged ``gpu`` without CUDA, or ``needs-<module>`` without that module) are skipped, as in the
tests.
"""

from __future__ import annotations

import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class NotebookRun:
    notebook: str  # path relative to the repository root, e.g. "Chapter01/Chain_rule.ipynb"
    status: str = "not run"  # "passed", "failed" or "timeout"
    seconds: float = 0.0
    error: str = ""  # which cell, which error
    results: dict = field(default_factory=dict)  # what the notebook recorded

    @property
    def device(self) -> str:
        return str(self.results.get("device", ""))

    @property
    def data_source(self) -> str:
        sources = {k.split(".", 1)[1]: v for k, v in self.results.items()
                   if k.startswith("data_source.")}  # fmt: skip
        return ", ".join(f"{name}: {source}" for name, source in sorted(sources.items()))


def execute(notebook: Path, executed: Path, cell_timeout: int) -> None:
    """Execute ``notebook`` in a fresh kernel and save it with outputs to ``executed`` (+ HTML).

    Raises the cell's error, after saving what ran, if a cell fails.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:  # as the tests do: no CUDA, no gpu cells; no extra, no cells needing it
        if cannot_run(cell.metadata.get("tags", [])):
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), "skip-execution"]
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}})  # fmt: skip
    try:
        client.execute()
    except CellExecutionError as error:
        failed = [(i, _cell_error(c)) for i, c in enumerate(nb.cells) if _cell_error(c)]
        where = f"cell {failed[0][0]}: {failed[0][1]}" if failed else str(error).splitlines()[0]
        raise RuntimeError(where) from None
    finally:
        executed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, executed)
        _write_html(nb, executed.with_suffix(".html"))


def cannot_run(tags) -> bool:
    """A cell tagged ``gpu`` without CUDA, or ``needs-<module>`` without that module."""
    if "gpu" in tags:
        import torch

        if not torch.cuda.is_available():
            return True
    return bool(missing_modules(tags))


def missing_modules(tags) -> list[str]:
    """The modules named by ``needs-<module>`` tags that cannot be imported here."""
    import importlib.util

    needed = [tag.removeprefix("needs-") for tag in tags if tag.startswith("needs-")]
    return [module for module in needed if importlib.util.find_spec(module) is None]


def _cell_error(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output['ename']}: {output['evalue']}"
    return ""


def _write_html(nb, target: Path) -> None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")


def run_one(notebook: Path, root: Path, out: Path, env: dict, limit_s: float) -> NotebookRun:
    """Run one notebook in a child process under ``limit_s`` seconds; never raises."""
    relative = notebook.resolve().relative_to(root.resolve())
    run = NotebookRun(relative.as_posix())
    executed = out.resolve() / relative  # absolute: the kernel runs in the notebook's folder
    results_file, error_file = (executed.with_suffix(s) for s in (".results.json", ".error.txt"))
    for stale in (results_file, error_file):
        stale.unlink(missing_ok=True)
    executed.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "mcvp.runner", str(notebook), str(executed), str(error_file)]
    child_env = {"MCVP_CELL_TIMEOUT": str(int(limit_s)), **os.environ, **env,
                 "MCVP_RESULTS": str(results_file)}  # fmt: skip  # a cell may use the whole limit
    start = time.perf_counter()
    child = subprocess.Popen(
        command, env=child_env, start_new_session=True, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _, stderr = child.communicate(timeout=limit_s)
        run.status = "passed" if child.returncode == 0 else "failed"
        if child.returncode:
            run.error = error_file.read_text() if error_file.exists() else stderr.strip()[-500:]
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the kernel too: it runs in the child's session
        child.communicate()
        run.status, run.error = "timeout", f"stopped after {limit_s:.0f} s"
    run.seconds = round(time.perf_counter() - start, 1)
    if results_file.exists():
        run.results = json.loads(results_file.read_text())
    return run


def run_all(notebooks, root: Path, out: Path, env: dict, limit_s: float, jobs: int = 1,
            progress=None) -> list[NotebookRun]:  # fmt: skip
    """Run ``notebooks`` (``jobs`` at a time) and write ``results.json`` and ``results.md``,
    updated after every notebook, so a run that is stopped early keeps what it measured."""
    runs = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_one, nb, root, out, env, limit_s): nb for nb in notebooks}
        for future in as_completed(futures):
            run = future.result()
            runs[futures[future]] = run
            write_reports([runs[nb] for nb in notebooks if nb in runs], out)
            if progress is not None:
                progress(run)
    ordered = [runs[nb] for nb in notebooks]
    write_reports(ordered, out)
    return ordered


def write_reports(runs: list[NotebookRun], out: Path) -> None:
    rows = [{**asdict(r), "device": r.device, "data_source": r.data_source} for r in runs]
    (out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    (out / "results.md").write_text(results_table(runs))


def machine() -> dict:
    """What the run ran on: CPU, cores, memory, GPU (if any) and the library versions."""
    import torch
    import torchvision

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = names[0].strip() if names else cpu
    memory = None
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(), "memory_gib": memory, "gpu": gpu,
            "python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__}  # fmt: skip


def write_run_info(out: Path, mode: str, env: dict, command: str) -> dict:
    """``run.json``: the date, the machine, the mode and the data settings of this run."""
    import datetime

    info = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "offline": env.get("MCVP_OFFLINE") == "1",
        "mirror": env.get("MCVP_DATA_MIRROR"),
        "command": command,
        "machine": machine(),
    }
    (out / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


RESULTS_START = "<!-- results:start (generated by `python -m mcvp publish`; do not edit) -->"
RESULTS_END = "<!-- results:end -->"
DATA_WORDS = {  # data_source values, as the README names them
    "mirror": "real (mirror)",
    "download": "real (download)",
    "by hand": "real (by hand)",
    "stand-in": "stand-in",
    "generated": "generated",
}


def _data_kind(run: dict) -> str:
    """One word for where a notebook's data came from; stand-ins are named, never hidden."""
    sources = {v for k, v in run["results"].items() if k.startswith("data_source.")}
    return " + ".join(sorted(DATA_WORDS.get(s, s) for s in sources)) or "none needed"


def _key_results(run: dict, limit: int = 4) -> str:
    skipped = ("device", "data_source.", "weights_source.")
    shown = [f"{k} {_short(v)}" for k, v in run["results"].items()
             if not k.startswith(skipped) and isinstance(v, (int, float, str, bool))]  # fmt: skip
    text = "; ".join(shown[:limit]) + (" …" if len(shown) > limit else "")
    return (text or run["error"]).replace("|", "/")


def results_section(out: Path) -> str:
    """The README's results section for the run in ``out`` (needs results.json and run.json)."""
    rows = json.loads((out / "results.json").read_text())
    info = json.loads((out / "run.json").read_text())
    hardware = info["machine"]
    where = f"{hardware['cpu']}, {hardware['cores']} cores, {hardware['memory_gib']} GiB"
    where += f", GPU {hardware['gpu']}" if hardware["gpu"] else ", no GPU"
    kinds = [_data_kind(r) for r in rows]
    passed = sum(r["status"] == "passed" for r in rows)
    lines = [
        RESULTS_START,
        "",
        f"Run of {info['date']} in **{info['mode']} mode** on {where} (Python "
        f"{hardware['python']}, torch {hardware['torch']}, torchvision {hardware['torchvision']}): "
        f"{passed} of {len(rows)} notebooks passed, in {sum(r['seconds'] for r in rows) / 60:.0f} "
        f"minutes. Data: {sum('real' in k for k in kinds)} notebooks on real data, "
        f"{sum('stand-in' in k for k in kinds)} on synthetic stand-ins (numbers that only show the "
        f"code works), the rest need none or draw their own. Command: `{info['command']}`.",
        "",
        "| Notebook | Status | Seconds | Data | Key results |",
        "| --- | --- | ---: | --- | --- |",
    ]
    for row, kind in zip(rows, kinds, strict=True):
        name = row["notebook"].removesuffix(".ipynb")
        lines.append(f"| [{name}]({row['notebook']}) | {row['status']} | {row['seconds']:.0f} | "
                     f"{kind} | {_key_results(row)} |")  # fmt: skip
    lines += ["", RESULTS_END]
    return "\n".join(lines)


def publish(out: Path, readme: Path) -> None:
    """Replace the results section of ``readme`` with the run in ``out``."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(RESULTS_START), text.index(RESULTS_END) + len(RESULTS_END)
    readme.write_text(text[:start] + results_section(out) + text[end:], encoding="utf-8")


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def results_table(runs: list[NotebookRun]) -> str:
    """A Markdown table: notebook, status, seconds, device, data, key results."""
    lines = ["| Notebook | Status | Seconds | Device | Data | Key results |",
             "| --- | --- | ---: | --- | --- | --- |"]  # fmt: skip
    for run in runs:
        keys = {k: v for k, v in run.results.items()
                if k != "device" and not k.startswith("data_source.")
                and isinstance(v, (int, float, str, bool))}  # fmt: skip
        shown = "; ".join(f"{k} {_short(v)}" for k, v in keys.items()) or run.error
        lines.append(f"| {run.notebook} | {run.status} | {run.seconds:.1f} | {run.device} | "
                     f"{run.data_source} | {shown.replace('|', '/')} |")  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # the child process of run_one
    notebook, executed, error_file = (Path(a) for a in sys.argv[1:4])
    try:
        execute(notebook, executed, cell_timeout=int(os.environ.get("MCVP_CELL_TIMEOUT", "600")))
    except Exception as error:  # noqa: BLE001 - reported to the parent, which carries on
        error_file.write_text(str(error))
        sys.exit(1)
