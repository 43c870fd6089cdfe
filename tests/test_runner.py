"""mcvp.runner and ``python -m mcvp run``: failures are reported, the others still run."""

from __future__ import annotations

import json

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

from mcvp import runner  # noqa: E402
from mcvp.__main__ import main  # noqa: E402


def write_notebook(path, *sources):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    passing = write_notebook(
        root / "Chapter01" / "Passing.ipynb",
        "from mcvp import record\nimport matplotlib.pyplot as plt",
        "plt.plot([1, 2]); plt.title('a plot'); plt.show()\nrecord('accuracy', 0.75)",
        "import surely_not_installed_xyz",  # tagged below: skipped, as in the tests
    )
    notebook = nbformat.read(passing, as_version=4)
    notebook.cells[2].metadata["tags"] = ["needs-surely_not_installed_xyz"]
    nbformat.write(notebook, passing)
    failing = write_notebook(
        root / "Chapter01" / "Failing.ipynb", "x = 1", "raise ValueError('the data is missing')"
    )
    slow = write_notebook(root / "Chapter02" / "Slow.ipynb", "import time\ntime.sleep(600)")
    return root, [failing, slow, passing]


def test_a_failing_or_slow_notebook_is_reported_and_the_others_still_run(course, tmp_path):
    root, notebooks = course
    out = tmp_path / "runs"
    runs = runner.run_all(notebooks, root, out, {"MCVP_SMOKE": "1"}, limit_s=60, jobs=3)
    by_name = {run.notebook: run for run in runs}
    failed, slow, passed = (by_name[f] for f in (
        "Chapter01/Failing.ipynb", "Chapter02/Slow.ipynb", "Chapter01/Passing.ipynb"))  # fmt: skip
    assert failed.status == "failed" and "cell 1" in failed.error and "ValueError" in failed.error
    assert slow.status == "timeout" and 60 <= slow.seconds < 120
    assert passed.status == "passed" and passed.results == {"accuracy": 0.75}
    executed = nbformat.read(out / "Chapter01" / "Passing.ipynb", as_version=4)
    assert any(o.get("output_type") == "display_data" for o in executed.cells[1].outputs)
    assert (out / "Chapter01" / "Passing.html").read_text().count("<img") >= 1
    assert (out / "Chapter01" / "Failing.ipynb").exists()  # kept, with its error, for reading
    rows = json.loads((out / "results.json").read_text())
    assert [row["notebook"] for row in rows] == [run.notebook for run in runs]  # input order
    assert {"status", "seconds", "device", "data_source", "results", "error"} <= set(rows[0])
    table = (out / "results.md").read_text().splitlines()
    assert len(table) == 2 + 3 and "accuracy 0.75" in table[-1]


def test_command_line_selects_chapters_and_notebooks(course, tmp_path, capsys):
    root, _ = course
    out = tmp_path / "cli"
    code = main(["run", "Chapter01/Passing.ipynb", "--smoke", "--out", str(out),
                 "--root", str(root)])  # fmt: skip
    assert code == 0 and "1 of 1 notebooks passed" in capsys.readouterr().out
    assert json.loads((out / "results.json").read_text())[0]["status"] == "passed"
    with pytest.raises(SystemExit, match="no notebook matches"):
        main(["run", "Chapter09", "--root", str(root), "--out", str(out)])


def test_publish_writes_the_readme_results_section_from_a_run(course, tmp_path, monkeypatch):
    root, _ = course
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "published"
    assert main(["run", "Chapter01/Passing.ipynb", "--smoke", "--out", "published",
                 "--root", str(root)]) == 0  # fmt: skip  # a relative --out, as in the README
    assert not (root / "Chapter01" / "published").exists()  # not beside the notebook
    info = json.loads((out / "run.json").read_text())
    assert info["mode"] == "smoke" and info["machine"]["cores"] >= 1 and "UTC" in info["date"]
    assert info["command"].startswith("python -m mcvp run Chapter01/Passing.ipynb --smoke")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Course\n\n{runner.RESULTS_START}\nold\n{runner.RESULTS_END}\n\nEnd.\n")
    assert main(["publish", str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old" not in text and text.endswith("\n\nEnd.\n") and "smoke mode" in text
    row = next(line for line in text.splitlines() if line.startswith("| [Chapter01/Passing"))
    assert row.startswith("| [Chapter01/Passing](Chapter01/Passing.ipynb) | passed |")
    assert "accuracy 0.75" in row and "none needed" in row
    main(["publish", str(out), "--readme", str(readme)])
    assert readme.read_text() == text  # publishing twice changes nothing


def test_data_kinds_name_stand_ins():
    run = {"results": {"data_source.a": "mirror", "data_source.b": "stand-in"}, "error": ""}
    assert runner._data_kind(run) == "real (mirror) + stand-in"
