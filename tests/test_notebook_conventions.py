"""Every course notebook follows the conventions in CONTRIBUTING.md (checked without running it)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from mcvp import course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = course.notebooks(ROOT)

# (pattern, why it is not allowed) checked against every code cell after the install cell.
FORBIDDEN_CODE = [
    (r"^\s*[%!]\s*pip\b", "installs belong in the Colab-only install cell"),
    (r"^\s*!.*\b(wget|curl|kaggle|gdown|git\s+clone|unzip|tar)\b",
     "downloads go through mcvp.data, not shell magics"),
    (r"/content/", "Colab-only path; use paths relative to the notebook or mcvp.data"),
    (r"\.cuda\(\)|device\s*=\s*['\"]cuda|torch\.device\(\s*['\"]cuda|\.to\(\s*['\"]cuda",
     "hard-coded CUDA; use DEVICE = get_device()"),
    (r"^\s*(import|from)\s+imgaug\b", "imgaug is broken on NumPy 2; use torchvision.transforms.v2"),
    (r"from\s+torch_snippets\s+import\s+\*", "import what you use from torch_snippets explicitly"),
    (r"ReduceLROnPlateau\([^)]*verbose", "ReduceLROnPlateau lost its verbose argument"),
]  # fmt: skip


def load(notebook: Path):
    return nbformat.read(ROOT / notebook, as_version=nbformat.NO_CONVERT)


def test_the_course_has_notebooks():
    assert NOTEBOOKS, "no notebook found in any chapter folder"


@pytest.fixture(params=NOTEBOOKS, ids=[nb.as_posix() for nb in NOTEBOOKS])
def notebook(request):
    return request.param


def test_is_valid_nbformat4_with_python3_kernel(notebook):
    nb = load(notebook)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_outputs_and_execution_counts_are_stripped(notebook):
    dirty = [
        i
        for i, cell in enumerate(load(notebook).cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"cells {dirty} hold outputs; clear them before committing"


def test_starts_with_its_own_colab_badge_and_a_title(notebook):
    first = load(notebook).cells[0]
    assert first.cell_type == "markdown"
    assert course.badge(notebook.as_posix()) in first.source, "run `python -m mcvp sync`"
    assert re.search(r"^# \S", first.source, re.M), "the first cell needs a '# Title'"


def test_second_cell_is_the_colab_only_install_cell(notebook):
    cell = load(notebook).cells[1]
    assert cell.cell_type == "code"
    assert 'if "google.colab" in sys.modules:' in cell.source
    assert re.search(r"^\s+%pip install -q .*" + re.escape(course.pip_source()), cell.source, re.M)


def test_code_avoids_known_traps(notebook):
    problems = []
    for index, cell in enumerate(load(notebook).cells[2:], start=2):
        if cell.cell_type != "code":
            continue
        for pattern, why in FORBIDDEN_CODE:
            for match in re.finditer(pattern, cell.source, re.M):
                problems.append(f"cell {index}: {match.group(0).strip()!r}: {why}")
    assert not problems, "\n".join(problems)


def test_seeds_and_ends_with_a_summary_and_exercises(notebook):
    cells = load(notebook).cells
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert "seed_everything(" in code
    assert cells[-1].cell_type == "markdown" and "## Exercises" in cells[-1].source
