"""Dataset resolution (cache → mirror → download → stand-in) and the FashionMNIST stand-in."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import shutil

import numpy as np
import pytest

from mcvp import data
from mcvp.data import DATASETS, Dataset, RemoteFile, fetch, gunzip_all, write_idx
from mcvp.download import DownloadError
from tests.localserver import Handler


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("MCVP_DATA_MIRROR", "MCVP_STANDIN", "MCVP_OFFLINE", "MCVP_SMOKE", "MCVP_RESULTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MCVP_DATA", str(tmp_path / "cache"))


def source_of(folder):
    return json.loads((folder / data.MARKER).read_text())["source"]


def test_registry_entries_are_complete():
    for name, ds in DATASETS.items():
        assert ds.name == name and ds.homepage.startswith("http") and ds.license
        assert ds.files and ds.layout
        for remote in ds.files:
            assert remote.urls and all(u.startswith(("http://", "https://")) for u in remote.urls)


# --------------------------------------------------------------------------- FashionMNIST


def standin(monkeypatch):
    monkeypatch.setenv("MCVP_SMOKE", "1")
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    return fetch("FashionMNIST")


def test_fashion_mnist_standin_reads_through_torchvision(monkeypatch, capsys):
    torchvision = pytest.importorskip("torchvision")
    root = standin(monkeypatch)
    assert "STAND-IN DATA" in capsys.readouterr().out
    assert source_of(root) == "stand-in" and root.parent.name == "standins"
    train = torchvision.datasets.FashionMNIST(root.parent, train=True, download=False)
    test = torchvision.datasets.FashionMNIST(root.parent, train=False, download=False)
    assert train.data.shape[1:] == (28, 28) and len(test) > 0
    assert sorted(train.targets.unique().tolist()) == list(range(10))


def test_fashion_mnist_standin_is_learnable_and_deterministic(monkeypatch, tmp_path):
    torchvision = pytest.importorskip("torchvision")
    from sklearn.linear_model import LogisticRegression

    root = standin(monkeypatch)
    train = torchvision.datasets.FashionMNIST(root.parent, train=True)
    test = torchvision.datasets.FashionMNIST(root.parent, train=False)
    x_train, x_test = (d.data.flatten(1).numpy() / 255 for d in (train, test))
    model = LogisticRegression(max_iter=300).fit(x_train, train.targets.numpy())
    assert model.score(x_test, test.targets.numpy()) > 0.9  # chance is 0.1

    again = tmp_path / "again"
    data.make_fashion_mnist_standin(again)
    for f in (root / "raw").iterdir():
        assert (again / "raw" / f.name).read_bytes() == f.read_bytes()


def test_standin_is_refused_unless_allowed(monkeypatch):
    monkeypatch.setenv("MCVP_OFFLINE", "1")  # offline but not smoke: a real run must not fake
    with pytest.raises(DownloadError) as err:
        fetch("FashionMNIST")
    message = str(err.value)
    for hint in ("MCVP_OFFLINE=1", "fashion-mnist", "MCVP_STANDIN=1", "MCVP_DATA_MIRROR"):
        assert hint in message
    monkeypatch.setenv("MCVP_STANDIN", "1")
    assert source_of(fetch("FashionMNIST")) == "stand-in"


def gzip_mirror(tmp_path, arrays):
    """A mirror folder holding FashionMNIST/raw/*.gz, as the official download has them."""
    raw = tmp_path / "mirror" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name, array in arrays.items():
        write_idx(tmp_path / name, array)
        (raw / f"{name}.gz").write_bytes(gzip.compress((tmp_path / name).read_bytes()))
    return tmp_path / "mirror"


def fake_fashion(n=20):
    images = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    arrays = {}
    for prefix in ("train", "t10k"):
        arrays[f"{prefix}-images-idx3-ubyte"] = images
        arrays[f"{prefix}-labels-idx1-ubyte"] = labels
    return arrays


def test_mirror_with_archives_is_unpacked_into_the_cache(monkeypatch, tmp_path):
    torchvision = pytest.importorskip("torchvision")
    arrays = fake_fashion()
    monkeypatch.setenv("MCVP_DATA_MIRROR", str(gzip_mirror(tmp_path, arrays)))
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    root = fetch("FashionMNIST")
    assert root == tmp_path / "cache" / "FashionMNIST" and source_of(root) == "mirror"
    train = torchvision.datasets.FashionMNIST(root.parent, train=True)
    np.testing.assert_array_equal(train.data.numpy(), arrays["train-images-idx3-ubyte"])
    # Second call: served from the cache, still reported as coming from the mirror.
    monkeypatch.delenv("MCVP_DATA_MIRROR")
    assert fetch("FashionMNIST") == root


def test_mirror_in_extracted_layout_is_used_in_place(monkeypatch, tmp_path):
    mirror = gzip_mirror(tmp_path, fake_fashion())
    gunzip_all(mirror / "FashionMNIST")
    monkeypatch.setenv("MCVP_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    assert fetch("FashionMNIST") == mirror / "FashionMNIST"
    assert not (tmp_path / "cache" / "FashionMNIST").exists()  # nothing copied


def test_cache_wins_over_mirror(monkeypatch, tmp_path):
    mirror = gzip_mirror(tmp_path, fake_fashion())
    cached = tmp_path / "cache" / "FashionMNIST"
    shutil.copytree(mirror / "FashionMNIST", cached)
    gunzip_all(cached)
    monkeypatch.setenv("MCVP_DATA_MIRROR", str(mirror))
    assert fetch("FashionMNIST") == cached


def test_records_where_the_data_came_from(monkeypatch, tmp_path):
    results = tmp_path / "results.json"
    monkeypatch.setenv("MCVP_RESULTS", str(results))
    standin(monkeypatch)
    assert json.loads(results.read_text()) == {"data_source.FashionMNIST": "stand-in"}


def test_mirror_of_the_shared_data_folder_if_present(monkeypatch, tmp_path):
    """The real mirror CI has beside the checkout (skipped where it is absent)."""
    from pathlib import Path

    mirror = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (mirror / "FashionMNIST").is_dir():
        pytest.skip("no ../shared/data mirror beside this checkout")
    monkeypatch.setenv("MCVP_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    root = fetch("FashionMNIST")
    assert (root / "raw" / "train-images-idx3-ubyte").stat().st_size == 16 + 60_000 * 28 * 28


# --------------------------------------------------------------------------- download


@pytest.fixture
def tiny_dataset(server):
    """A registered dataset whose one file lives on the test's own HTTP server."""
    content = gzip.compress(b"tiny dataset\n")
    Handler.extra = {"/tiny.txt.gz": content}
    ds = Dataset(
        name="Tiny",
        description="test only",
        homepage="https://example.org",
        license="none",
        files=(
            RemoteFile(
                "tiny.txt.gz",
                (f"{server}/gone.txt.gz", f"{server}/tiny.txt.gz"),  # first URL is dead
                "sha256:" + hashlib.sha256(content).hexdigest(),
            ),
        ),
        layout=("tiny.txt",),
        unpack=gunzip_all,
        make_standin=lambda folder: (folder / "tiny.txt").write_text("stand-in\n"),
    )
    DATASETS[ds.name] = ds
    yield ds
    del DATASETS[ds.name]
    Handler.extra = {}


def test_download_falls_back_to_the_next_url_and_unpacks(tiny_dataset, tmp_path):
    root = fetch("Tiny")
    assert (root / "tiny.txt").read_text() == "tiny dataset\n"
    assert not (root / "tiny.txt.gz").exists() and source_of(root) == "download"
    assert sorted(p.name for p in root.parent.iterdir()) == ["Tiny"]  # no staging left behind


def test_failed_download_says_what_to_do_by_hand(tiny_dataset, tmp_path):
    dead_url_only = (RemoteFile("tiny.txt.gz", tiny_dataset.files[0].urls[:1]),)
    DATASETS["Tiny"] = dataclasses.replace(tiny_dataset, files=dead_url_only)
    with pytest.raises(DownloadError) as err:
        fetch("Tiny")
    message = str(err.value)
    assert "HTTP 404" in message and "gone.txt.gz" in message
    assert str(tmp_path / "cache" / "Tiny" / "tiny.txt.gz") in message
    assert not (tmp_path / "cache" / "Tiny").exists()
