"""pytest wiring for the course: notebook runs through nbval, GPU cells, smoke mode, timings.

It sits at the repository root because pytest applies a conftest's per-test hooks only to tests
below its folder, and the notebooks live in the chapter folders.

- Notebooks run in smoke mode and offline (``MCVP_SMOKE=1 MCVP_OFFLINE=1``) with one thread per
  kernel, unless the caller sets those variables; kernels inherit this process's environment.
- Cells tagged ``gpu`` are skipped without CUDA; ``--require-cuda`` makes that a failure.
- Cells tagged ``needs-<module>`` (an optional extra, e.g. ``needs-ultralytics``) are skipped
  when that module cannot be imported.
- After a notebook's first failing cell, its remaining cells are skipped (they would only fail
  with NameErrors that hide the real error).
- The summary ends with each notebook's wall time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import defaultdict

import pytest

from mcvp.runner import missing_modules  # needs-<module> tags, shared with the runner

HERMETIC_DEFAULTS = {
    "MCVP_SMOKE": "1",
    "MCVP_OFFLINE": "1",
    "OMP_NUM_THREADS": "1",  # two kernels share two cores: one thread each
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # silences a debugger warning in every kernel
}
OUTPUT_TIMEOUT_S = 60  # nbval waits only 5 s for a cell's output after it replied
GPU_TAG = "gpu"
NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)  # filled in the controller process


def pytest_addoption(parser):
    parser.addoption(
        "--require-cuda",
        action="store_true",
        help="fail (instead of skip) notebook cells tagged 'gpu' when CUDA is not available",
    )


def pytest_configure(config):
    for name, value in HERMETIC_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if "MCVP_DATA" not in os.environ:  # a fresh cache: tests never see a learner's downloads
        config._mcvp_temp_data = os.environ["MCVP_DATA"] = tempfile.mkdtemp(prefix="mcvp-data-")
    config._mcvp_failed_notebooks = set()


def pytest_unconfigure(config):
    temp_data = getattr(config, "_mcvp_temp_data", None)
    if temp_data:
        shutil.rmtree(temp_data, ignore_errors=True)
        del os.environ["MCVP_DATA"]


def _is_notebook_cell(item) -> bool:
    return hasattr(item, "cell") and hasattr(item, "output_timeout")


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    cells = [item for item in items if _is_notebook_cell(item)]
    gpu_cells = [item for item in cells if GPU_TAG in item.cell.metadata.get("tags", [])]
    if gpu_cells and not _cuda_available():
        if config.getoption("--require-cuda"):
            reason = "--require-cuda was given but torch.cuda.is_available() is False"
            for item in gpu_cells:
                item._mcvp_fail_reason = reason
        else:
            for item in gpu_cells:
                item.add_marker(pytest.mark.skip(reason="cell tagged 'gpu' and no CUDA here"))
    for item in cells:
        item.output_timeout = OUTPUT_TIMEOUT_S
        for module in missing_modules(item.cell.metadata.get("tags", [])):
            item.add_marker(pytest.mark.skip(reason=f"cell needs '{module}', not installed"))


def pytest_runtest_setup(item):
    if not _is_notebook_cell(item):
        return
    reason = getattr(item, "_mcvp_fail_reason", None)
    if reason:
        pytest.fail(reason)
    if item.parent.nodeid in item.config._mcvp_failed_notebooks:
        pytest.skip("an earlier cell of this notebook failed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _is_notebook_cell(item) and report.failed:
        item.config._mcvp_failed_notebooks.add(item.parent.nodeid)


def pytest_runtest_logreport(report):
    """Add up each notebook's time (runs in the controller, also with xdist)."""
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        NOTEBOOK_SECONDS[path] += report.duration


def pytest_terminal_summary(terminalreporter, config):
    seconds = NOTEBOOK_SECONDS
    if not seconds:
        return
    terminalreporter.section("notebook durations (kernel start + all cells)")
    for path, total in sorted(seconds.items()):
        terminalreporter.write_line(f"{total:7.1f} s  {path}")
    terminalreporter.write_line(f"{sum(seconds.values()):7.1f} s  total, {len(seconds)} notebooks")
