"""mcvp.runtime: smoke budgets, seeding, device choice, result recording."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from mcvp import budget, get_device, is_smoke, record, seed_everything


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_smoke_mode_follows_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("MCVP_SMOKE", value)
    assert is_smoke() is expected
    assert budget(20, smoke=1) == (1 if expected else 20)


def test_seed_everything_repeats_python_numpy_and_torch():
    torch = pytest.importorskip("torch")

    def draw():
        seed_everything(7)
        return random.random(), np.random.rand(), torch.rand(1).item()

    assert draw() == draw()


def test_get_device_prefers_what_is_asked(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.delenv("MCVP_DEVICE", raising=False)
    assert get_device("cpu").type == "cpu"
    monkeypatch.setenv("MCVP_DEVICE", "cpu")
    assert get_device().type == "cpu"
    monkeypatch.delenv("MCVP_DEVICE")
    assert get_device().type in {"cuda", "mps", "cpu"}


def test_get_device_records_the_choice(monkeypatch, tmp_path):
    pytest.importorskip("torch")
    monkeypatch.setenv("MCVP_RESULTS", str(tmp_path / "results.json"))
    get_device("cpu")
    assert json.loads((tmp_path / "results.json").read_text()) == {"device": "cpu"}


def test_record_writes_json_only_when_asked(monkeypatch, tmp_path):
    torch = pytest.importorskip("torch")
    monkeypatch.delenv("MCVP_RESULTS", raising=False)
    assert record("accuracy", np.float32(0.5)) == 0.5  # no file named: nothing written
    target = tmp_path / "runs" / "results.json"
    monkeypatch.setenv("MCVP_RESULTS", str(target))
    record("accuracy", torch.tensor(0.75))
    record("losses", np.array([1.0, 0.5]))
    record("accuracy", 0.8)  # a later value replaces the earlier one
    assert json.loads(target.read_text()) == {"accuracy": 0.8, "losses": [1.0, 0.5]}


def test_record_refuses_values_json_cannot_hold(monkeypatch, tmp_path):
    monkeypatch.setenv("MCVP_RESULTS", str(tmp_path / "r.json"))
    with pytest.raises(TypeError):
        record("model", object())
    assert not (tmp_path / "r.json").exists()
