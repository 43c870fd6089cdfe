"""mcvp.weights: torchvision weights from cache, mirror or download, else a loud random start."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

from mcvp import weights  # noqa: E402

RESNET18_FILE = "resnet18-f37072fd.pth"  # torchvision's official file name


@pytest.fixture(autouse=True)
def empty_torch_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("MCVP_WEIGHTS_MIRROR", raising=False)
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    monkeypatch.setenv("MCVP_RESULTS", str(tmp_path / "results.json"))


def test_without_weights_the_model_starts_random_and_says_so(capsys):
    model, pretrained = weights.torchvision_model("resnet18", "IMAGENET1K_V1")
    assert not pretrained and model.fc.out_features == 1000
    out = capsys.readouterr().out
    assert "NO PRETRAINED WEIGHTS" in out and RESNET18_FILE in out and "MCVP_OFFLINE=1" in out


def test_weights_from_the_mirror_are_loaded_and_cached(monkeypatch, tmp_path, capsys):
    import torchvision

    reference = torchvision.models.resnet18()  # stands in for the real file: same keys, shapes
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    torch.save(reference.state_dict(), mirror / RESNET18_FILE)
    monkeypatch.setenv("MCVP_WEIGHTS_MIRROR", str(mirror))
    model, pretrained = weights.torchvision_model("resnet18", "IMAGENET1K_V1")
    assert pretrained and "(mirror)" in capsys.readouterr().out
    assert torch.equal(model.conv1.weight, reference.conv1.weight)
    assert (weights.checkpoint_dir() / RESNET18_FILE).is_file()  # torchvision finds it next time
    monkeypatch.delenv("MCVP_WEIGHTS_MIRROR")
    _, pretrained = weights.torchvision_model("resnet18", "IMAGENET1K_V1")
    assert pretrained and "(cache)" in capsys.readouterr().out


def test_efficientnet_lite0_has_real_imagenet_weights():
    pytest.importorskip("efficientnet_lite_pytorch")
    from skimage.data import chelsea

    model = weights.efficientnet_lite0().eval()
    photo = torch.from_numpy(chelsea()).permute(2, 0, 1).float()[None] / 255
    photo = torch.nn.functional.interpolate(photo, size=(224, 224), mode="area")
    with torch.inference_mode():
        top5 = model((photo - 0.5) / 0.5).topk(5).indices[0].tolist()
    assert {281, 282, 285} & set(top5), "a photo of a cat: tabby, tiger cat or Egyptian cat"
    two_classes = weights.efficientnet_lite0(num_classes=2)
    assert two_classes._fc.out_features == 2
