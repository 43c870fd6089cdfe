"""The course's datasets: where each comes from, how it lies on disk, and a synthetic stand-in.

A notebook asks for a dataset by name and gets the folder that holds it::

    from mcvp.data import fetch
    root = fetch("FashionMNIST")        # .../FashionMNIST, laid out as the official files extract

:func:`fetch` looks, in this order:

1. in the cache, ``$MCVP_DATA`` (default: ``data/`` in the repository checkout, git-ignored, or
   ``~/.cache/mcvp`` when ``mcvp`` is installed without a checkout, as on Colab);
2. in a local mirror, ``$MCVP_DATA_MIRROR``, a folder holding datasets in their extracted layout;
3. on the official servers (never when ``MCVP_OFFLINE=1``);
4. only when allowed (``MCVP_STANDIN=1``, or a smoke run that is offline): a small synthetic
   stand-in in exactly the same layout, announced loudly, because its numbers mean nothing.

Whichever way the files arrived, the notebook's own loading code reads them unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mcvp.download import DownloadError, download, extract, is_offline
from mcvp.runtime import env_flag, is_smoke, record

if TYPE_CHECKING:
    import torch

MARKER = ".mcvp-source.json"  # written into each folder the cache holds: where it came from


@dataclass(frozen=True)
class RemoteFile:
    """One file of an official download."""

    path: str  # where it lies inside the dataset folder before unpacking, e.g. "raw/x.gz"
    urls: tuple[str, ...]  # the official address first, then any official mirrors
    checksum: str | None = None  # "sha256:<hex>" or "md5:<hex>", as published


@dataclass(frozen=True)
class Dataset:
    """Everything the course knows about one dataset."""

    name: str  # registry key, and the folder name in the cache and in the mirror
    description: str
    homepage: str
    license: str
    files: tuple[RemoteFile, ...]
    layout: tuple[str, ...]  # paths (relative to the folder) that exist once it is ready
    unpack: Callable[[Path], None]  # turns the downloaded files in a folder into ``layout``
    make_standin: Callable[[Path], None]  # writes a synthetic stand-in into a folder
    manual: str = ""  # extra advice for fetching by hand (logins, terms to accept)

    def is_ready(self, folder: Path) -> bool:
        return all((folder / rel).exists() for rel in self.layout)


DATASETS: dict[str, Dataset] = {}
SOURCES: dict[str, str] = {}  # where fetch() found each dataset in this process


def is_standin(name: str) -> bool:
    """True when :func:`fetch` served dataset ``name`` as a synthetic stand-in.

    Notebooks use it to check thresholds that only real data can meet, only on real data.
    """
    return SOURCES.get(name) == "stand-in"


def register(dataset: Dataset) -> Dataset:
    DATASETS[dataset.name] = dataset
    return dataset


# --------------------------------------------------------------------------- where things live


def _checkout_root() -> Path | None:
    """The repository checkout that holds this package, if it was installed from one."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").exists() and (root / "Chapter01").is_dir() else None


def data_dir() -> Path:
    """The cache folder: ``$MCVP_DATA``, else ``data/`` in the checkout, else ``~/.cache/mcvp``."""
    if os.environ.get("MCVP_DATA"):
        return Path(os.environ["MCVP_DATA"]).expanduser()
    root = _checkout_root()
    return root / "data" if root else Path.home() / ".cache" / "mcvp"


def mirror_dir() -> Path | None:
    """The local mirror named by ``$MCVP_DATA_MIRROR``, if any."""
    value = os.environ.get("MCVP_DATA_MIRROR")
    return Path(value).expanduser() if value else None


def standin_allowed() -> bool:
    """Stand-ins only when asked for (``MCVP_STANDIN=1``) or in an offline smoke run."""
    return env_flag("MCVP_STANDIN") or (is_smoke() and is_offline())


# --------------------------------------------------------------------------- resolution


def fetch(name: str, *, allow_standin: bool | None = None, verbose: bool = True) -> Path:
    """Return the folder holding dataset ``name``, getting it first if needed (see module doc).

    Also records where the data came from (``data_source.<name>``) with :func:`mcvp.record`.
    """
    dataset = DATASETS[name]
    allow_standin = standin_allowed() if allow_standin is None else allow_standin
    cached = data_dir() / name
    tried = []

    if dataset.is_ready(cached):
        return _found(dataset, cached, _source_of(cached), verbose)
    tried.append(f"cache: {cached} does not hold it")

    mirror = mirror_dir()
    if mirror is None:
        tried.append("mirror: MCVP_DATA_MIRROR is not set")
    elif dataset.is_ready(mirror / name):
        return _found(dataset, mirror / name, "mirror", verbose)
    elif all((mirror / name / f.path).is_file() for f in dataset.files):

        def copy_from_mirror(remote: RemoteFile, dest: Path) -> None:
            shutil.copy(mirror / name / remote.path, dest)

        folder = _install(dataset, cached, "mirror", copy_from_mirror)
        return _found(dataset, folder, "mirror", verbose)
    else:
        tried.append(f"mirror: {mirror / name} does not hold it")

    if is_offline():
        tried.append("download: not tried, MCVP_OFFLINE=1")
    else:
        try:
            folder = _install(dataset, cached, "download", _download_one)
            return _found(dataset, folder, "download", verbose)
        except DownloadError as err:
            tried.append(f"download: {err}")

    if allow_standin:
        folder = data_dir() / "standins" / name
        if not dataset.is_ready(folder):
            _atomically(folder, lambda staging: _write_standin(dataset, staging))
        return _found(dataset, folder, "stand-in", verbose)
    raise DownloadError(_manual_instructions(dataset, cached, tried))


def _download_one(remote: RemoteFile, dest: Path) -> None:
    errors = []
    for url in remote.urls:
        try:
            download(url, dest, remote.checksum)
            return
        except DownloadError as err:
            errors.append(str(err))
    raise DownloadError("; ".join(errors))


def _install(
    dataset: Dataset, folder: Path, source: str, get: Callable[[RemoteFile, Path], None]
) -> Path:
    """Get every file of ``dataset`` with ``get``, unpack it, and move the result to ``folder``."""

    def build(staging: Path) -> None:
        for remote in dataset.files:
            dest = staging / remote.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            get(remote, dest)
        dataset.unpack(staging)
        _write_marker(staging, source)

    _atomically(folder, build)
    return folder


def _atomically(folder: Path, build: Callable[[Path], None]) -> None:
    """Build ``folder`` in a temporary sibling and rename it into place when complete.

    A crash leaves no half-built dataset behind, and two processes building the same dataset at
    once (parallel tests) both end up with one complete copy.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; a dataset folder is for everyone
    try:
        build(staging)
        try:
            staging.rename(folder)
        except OSError:
            if not folder.exists():  # lost a race only if somebody else's copy is there
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_marker(folder: Path, source: str) -> None:
    (folder / MARKER).write_text(json.dumps({"source": source}) + "\n")


def _source_of(folder: Path) -> str:
    try:
        return json.loads((folder / MARKER).read_text())["source"]
    except (OSError, ValueError, KeyError):
        return "cache"  # put there by hand


def _write_standin(dataset: Dataset, folder: Path) -> None:
    dataset.make_standin(folder)
    _write_marker(folder, "stand-in")


STANDIN_BANNER = """\
{rule}
!! STAND-IN DATA: '{name}' below is a small SYNTHETIC replica in the real on-disk layout,
!! used because the real files are not here and this run may not download them.
!! The code path is the real one; every number it produces is NOT a real result.
!! For real data: unset MCVP_OFFLINE (download) or set MCVP_DATA_MIRROR (local copy).
{rule}"""


def _found(dataset: Dataset, folder: Path, source: str, verbose: bool) -> Path:
    if not dataset.is_ready(folder):  # e.g. a half-copied folder put in the cache by hand
        raise DownloadError(f"{folder} is incomplete: delete it and run again")
    SOURCES[dataset.name] = source
    record(f"data_source.{dataset.name}", source)
    if verbose:
        if source == "stand-in":
            print(STANDIN_BANNER.format(rule="!" * 92, name=dataset.name))
        else:
            print(f"{dataset.name}: real data ({source}) in {folder}")
    return folder


def _manual_instructions(dataset: Dataset, folder: Path, tried: list[str]) -> str:
    lines = [f"Could not get the dataset {dataset.name!r}.", "What was tried:"]
    lines += [f"  - {t}" for t in tried]
    lines += ["To get it by hand, download:"]
    for remote in dataset.files:
        check = f"  ({remote.checksum})" if remote.checksum else ""
        lines.append(f"  - {remote.urls[0]}{check}\n    and save it as {folder / remote.path}")
    if dataset.manual:
        lines.append(dataset.manual)
    lines += [
        "then run the notebook again (the files are unpacked on first use).",
        "Or point MCVP_DATA_MIRROR at a folder that holds "
        f"{dataset.name}/ in its extracted layout. To try the code on synthetic data instead, "
        "set MCVP_STANDIN=1.",
        f"About the dataset: {dataset.homepage} (licence: {dataset.license})",
    ]
    return "\n".join(lines)


def gunzip_all(folder: Path) -> None:
    """Unpack every ``*.gz`` under ``folder`` next to itself, then delete the ``.gz``."""
    for gz in sorted(folder.rglob("*.gz")):
        extract(gz, gz.parent)
        gz.unlink()


# --------------------------------------------------------------------------- FashionMNIST

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_FASHION_FILES = {  # file: md5 published by Zalando (and used by torchvision)
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format of (Fashion-)MNIST: magic, sizes, raw bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    magic = 0x0800 | array.ndim  # 0x08 = unsigned byte
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    path.write_bytes(header + array.tobytes())


def _fashion_templates(rng: np.random.Generator) -> np.ndarray:
    """Ten smooth, clearly different 28x28 'garment' templates, one per class."""
    coarse = rng.random((10, 7, 7))
    fine = coarse.repeat(4, axis=1).repeat(4, axis=2)  # 7x7 blocks upscaled to 28x28
    return (fine > 0.5).astype(np.float32)


def _fashion_images(templates, labels, rng) -> np.ndarray:
    shifts = rng.integers(-2, 3, size=(len(labels), 2))
    images = np.stack(
        [np.roll(templates[y], tuple(s), axis=(0, 1)) for y, s in zip(labels, shifts, strict=True)]
    )
    images = images * rng.uniform(120, 230, size=(len(labels), 1, 1))
    images += rng.normal(0, 25, size=images.shape)
    return np.clip(images, 0, 255).astype(np.uint8)


def make_fashion_mnist_standin(folder: Path, n_train: int = 1000, n_test: int = 200) -> None:
    """Synthetic FashionMNIST: the four uncompressed IDX files torchvision reads, in ``raw/``."""
    rng = np.random.default_rng(2017)
    templates = _fashion_templates(rng)
    raw = folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        rng.shuffle(labels)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", _fashion_images(templates, labels, rng))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)


# torchvision.datasets.FashionMNIST(root=folder.parent) reads the fetched folder as it is.
register(
    Dataset(
        name="FashionMNIST",
        description="Zalando's Fashion-MNIST: 70,000 28x28 grey images of 10 clothing classes.",
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        license="MIT",
        files=tuple(
            RemoteFile(f"raw/{file}", (_FASHION_URL + file,), f"md5:{md5}")
            for file, md5 in _FASHION_FILES.items()
        ),
        layout=tuple(f"raw/{file.removesuffix('.gz')}" for file in _FASHION_FILES),
        unpack=gunzip_all,
        make_standin=make_fashion_mnist_standin,
    )
)


@dataclass(frozen=True)
class FashionMNISTTensors:
    """FashionMNIST as tensors: images uint8 (N, 28, 28), labels int64 (N,)."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...] = FASHION_CLASSES


def load_fashion_mnist() -> FashionMNISTTensors:
    """Fetch FashionMNIST and read both splits with torchvision, as whole tensors."""
    from torchvision.datasets import FashionMNIST

    root = fetch("FashionMNIST").parent  # torchvision wants the folder that holds FashionMNIST/
    train = FashionMNIST(root, train=True, download=False)
    test = FashionMNIST(root, train=False, download=False)
    return FashionMNISTTensors(train.data, train.targets, test.data, test.targets)
