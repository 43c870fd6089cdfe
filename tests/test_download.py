"""The download layer against a real HTTP server on 127.0.0.1, and safe archive extraction."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile

import pytest

from mcvp.download import (
    ChecksumError,
    DownloadError,
    OfflineError,
    UnsafeArchiveError,
    download,
    extract,
)
from tests.localserver import PAYLOAD, SHA256, Handler


@pytest.fixture(autouse=True)
def online(monkeypatch):
    monkeypatch.delenv("MCVP_OFFLINE", raising=False)
    Handler.requests.clear()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_download_verifies_and_renames_into_place(server, tmp_path):
    dest = download(f"{server}/file.bin", tmp_path / "file.bin", SHA256, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["file.bin"]


def test_md5_checksums_are_accepted(server, tmp_path):
    md5 = "md5:" + hashlib.md5(PAYLOAD).hexdigest()
    download(f"{server}/file.bin", tmp_path / "file.bin", md5, progress=False)
    assert (tmp_path / "file.bin").stat().st_size == len(PAYLOAD)


def test_checksum_mismatch_raises_and_leaves_no_file(server, tmp_path):
    wrong = "sha256:" + "0" * 64
    with pytest.raises(ChecksumError, match="corrupted"):
        download(f"{server}/file.bin", tmp_path / "file.bin", wrong, progress=False)
    assert leftovers(tmp_path) == []


def test_connection_dropped_midway_raises_and_leaves_no_file(server, tmp_path):
    with pytest.raises(DownloadError, match="dropped"):
        download(f"{server}/drops-midway.bin", tmp_path / "f.bin", progress=False)
    assert leftovers(tmp_path) == []


def test_404_gives_a_clear_message(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(f"{server}/nowhere.bin", tmp_path / "f.bin", progress=False)
    assert leftovers(tmp_path) == []


def test_unreachable_host_gives_a_clear_message(tmp_path):
    with pytest.raises(DownloadError, match="could not read"):
        download("http://127.0.0.1:9/none.bin", tmp_path / "f.bin", progress=False, timeout=5)


def test_offline_mode_refuses_to_connect(server, tmp_path, monkeypatch):
    monkeypatch.setenv("MCVP_OFFLINE", "1")
    with pytest.raises(OfflineError):
        download(f"{server}/file.bin", tmp_path / "file.bin", progress=False)
    assert Handler.requests == []  # the server never heard from us
    assert leftovers(tmp_path) == []


def test_malformed_checksum_is_rejected(server, tmp_path):
    with pytest.raises(ValueError, match="checksum"):
        download(f"{server}/file.bin", tmp_path / "f.bin", "crc32:1234", progress=False)


# --------------------------------------------------------------------------- extraction


def make_tar(path, add):
    with tarfile.open(path, "w:gz") as tf:
        add(tf)
    return path


def add_file(tf, name, data=b"hello"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def add_symlink(tf, name, target):
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tf.addfile(info)


def test_tar_extracts_normal_members(tmp_path):
    archive = make_tar(tmp_path / "ok.tar.gz", lambda tf: add_file(tf, "data/a.txt"))
    extract(archive, tmp_path / "out")
    assert (tmp_path / "out/data/a.txt").read_bytes() == b"hello"


@pytest.mark.parametrize(
    "add",
    [
        lambda tf: add_file(tf, "../evil.txt"),
        lambda tf: add_file(tf, "data/../../evil.txt"),
        lambda tf: add_file(tf, "/tmp/evil.txt"),
        lambda tf: add_symlink(tf, "link", "/etc/passwd"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink"],
)
def test_tar_with_unsafe_members_is_rejected_before_writing(tmp_path, add):
    archive = make_tar(tmp_path / "bad.tar.gz", lambda tf: (add_file(tf, "fine.txt"), add(tf)))
    with pytest.raises(UnsafeArchiveError):
        extract(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []  # nothing written, not even the fine file
    assert not (tmp_path / "evil.txt").exists()


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in members:
            zf.writestr(info, data)
    return path


def zip_symlink(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o120777) << 16  # S_IFLNK | rwx
    return info


@pytest.mark.parametrize(
    "member",
    [
        (zipfile.ZipInfo("../evil.txt"), b"x"),
        (zipfile.ZipInfo("/abs/evil.txt"), b"x"),
        (zip_symlink("link"), b"/etc/passwd"),
    ],
    ids=["dotdot", "absolute", "symlink"],
)
def test_zip_with_unsafe_members_is_rejected(tmp_path, member):
    archive = make_zip(tmp_path / "bad.zip", [(zipfile.ZipInfo("fine.txt"), b"ok"), member])
    with pytest.raises(UnsafeArchiveError):
        extract(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_zip_extracts_normal_members(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", [(zipfile.ZipInfo("d/a.txt"), b"ok")])
    extract(archive, tmp_path / "out")
    assert (tmp_path / "out/d/a.txt").read_bytes() == b"ok"
