"""Run-time switches shared by every notebook: smoke mode, seeding, device choice, results.

Environment variables (all optional):

``MCVP_SMOKE=1``
    Smoke mode: notebooks shrink their budgets (epochs, subset sizes) with :func:`budget`
    so the whole course runs in minutes on a CPU. CI always sets it.
``MCVP_DEVICE``
    Force a device (``cpu``, ``cuda``, ``cuda:1``, ``mps``) instead of the automatic choice.
``MCVP_RESULTS``
    Path of a JSON file; :func:`record` merges a notebook's key results into it.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str) -> bool:
    """True when the environment variable ``name`` is set to 1/true/yes/on (any case)."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def is_smoke() -> bool:
    """True in smoke mode (``MCVP_SMOKE=1``): tiny budgets, same code path."""
    return env_flag("MCVP_SMOKE")


def budget(value: T, smoke: T) -> T:
    """Return ``smoke`` in smoke mode, else ``value``.

    Lets a parameters cell read like the real thing::

        EPOCHS = budget(20, smoke=1)
    """
    return smoke if is_smoke() else value


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and (if installed) PyTorch on every device, for repeatable runs."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # Chapter 1 runs on NumPy alone
        return
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_device(prefer: str | None = None):
    """Pick the fastest available ``torch.device``: CUDA, else Apple MPS, else CPU.

    ``prefer`` (or the ``MCVP_DEVICE`` variable) forces a choice, e.g. ``"cpu"``. The choice
    is recorded as ``device`` (the GPU's name on CUDA) with :func:`record`.
    """
    import torch

    forced = prefer or os.environ.get("MCVP_DEVICE")
    if forced:
        device = torch.device(forced)
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    elif torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
    record("device", name)  # kept with the results (python -m mcvp run reports it)
    return device


def _to_json(value: Any) -> Any:
    """Turn NumPy/PyTorch scalars and arrays into plain JSON values."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def record(name: str, value: Any) -> Any:
    """Keep one of a notebook's key results (final accuracy, loss, data source …).

    When ``MCVP_RESULTS`` names a JSON file, ``name: value`` is merged into it, so runs can be
    compared later; otherwise nothing is written. Returns ``value`` (converted to plain JSON
    types) so a cell can both record and show it.
    """
    value = _to_json(value)
    json.dumps(value)  # fail here, not later, if the value cannot be stored
    target = os.environ.get("MCVP_RESULTS")
    if target:
        path = Path(target)
        results = json.loads(path.read_text()) if path.exists() else {}
        results[name] = value
        tmp = path.with_name(path.name + ".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        tmp.replace(path)  # atomic: a reader never sees half a file
    return value
