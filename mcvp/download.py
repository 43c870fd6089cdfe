"""Careful downloading and unpacking: atomic files, checksums, safe archive extraction.

Nothing here knows about a particular dataset; :mod:`mcvp.data` describes the datasets.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from mcvp.runtime import env_flag

CHUNK = 1 << 20  # 1 MiB


class DownloadError(RuntimeError):
    """A file could not be fetched; the message says what to do by hand."""


class ChecksumError(DownloadError):
    """A fetched file does not match its published checksum."""


class OfflineError(DownloadError):
    """A download was needed but ``MCVP_OFFLINE=1`` forbids network access."""


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the target folder, or is a link or device."""


def is_offline() -> bool:
    """True when ``MCVP_OFFLINE=1``: no network access at all."""
    return env_flag("MCVP_OFFLINE")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks so large files need little memory."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def parse_checksum(checksum: str | None) -> tuple[str, str] | None:
    """Split ``"sha256:abc…"`` (or ``"md5:…"``) into ``(algorithm, hex)``."""
    if not checksum:
        return None
    algorithm, _, expected = checksum.partition(":")
    if algorithm not in ("sha256", "md5") or not expected:
        raise ValueError(f"checksum must look like 'sha256:<hex>' or 'md5:<hex>', got {checksum!r}")
    return algorithm, expected.lower()


def _progress_bar(total: int | None, name: str, enabled: bool):
    from tqdm import tqdm  # the text bar: tqdm.auto would need ipywidgets in Jupyter

    return tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=name,
        disable=not enabled,
        leave=False,
    )


def download(
    url: str,
    dest: Path,
    checksum: str | None = None,
    *,
    timeout: float = 60,
    progress: bool = True,
    headers: dict[str, str] | None = None,
) -> Path:
    """Download ``url`` to ``dest`` atomically and verify its checksum.

    The bytes go to a temporary file next to ``dest``, which is renamed into place only once the
    whole file arrived and matches ``checksum``; on any failure no partial file is left behind.
    Raises :class:`OfflineError` before touching the network when ``MCVP_OFFLINE=1``.
    ``headers`` are sent with the request (e.g. a login); they never appear in messages.
    """
    dest = Path(dest)
    if is_offline():
        raise OfflineError(f"MCVP_OFFLINE=1 forbids downloading {url}")
    expected = parse_checksum(checksum)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            algorithm = expected[0] if expected else "sha256"
            digest = _fetch(url, out, algorithm, timeout, progress, headers or {})
        if expected and digest != expected[1]:
            raise ChecksumError(
                f"{url} arrived corrupted: {expected[0]} is {digest}, expected {expected[1]}. "
                "Try again; if it persists, the file on the server has changed."
            )
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _fetch(
    url: str, out, algorithm: str, timeout: float, progress: bool, headers: dict[str, str]
) -> str:
    """Stream ``url`` into the open file ``out``; return the hex digest of what arrived."""
    digest = hashlib.new(algorithm)
    request = urllib.request.Request(url, headers={"User-Agent": "mcvp-course", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length else None
            received = 0
            name = PurePosixPath(url).name
            with _progress_bar(total, name, progress) as bar:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as err:
        raise DownloadError(f"{url} answered HTTP {err.code} ({err.reason})") from err
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"could not read {url}: {err}") from err
    # urllib returns a short body without complaint when the connection drops midway.
    if total is not None and received != total:
        raise DownloadError(f"{url}: connection dropped after {received} of {total} bytes")
    return digest.hexdigest()


def _check_member(name: str, is_link: bool, is_special: bool) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        raise UnsafeArchiveError(f"absolute path in archive: {name!r}")
    if ".." in path.parts:
        raise UnsafeArchiveError(f"path leaving the target folder in archive: {name!r}")
    if is_link:
        raise UnsafeArchiveError(f"link in archive: {name!r}")
    if is_special:
        raise UnsafeArchiveError(f"device or special file in archive: {name!r}")


def _zip_is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return (mode & 0o170000) == 0o120000  # S_IFLNK


def extract(archive: Path, dest: Path) -> Path:
    """Extract a ``.zip``, ``.tar(.gz|.bz2|.xz)`` or single-file ``.gz`` into ``dest``.

    Every member is checked before anything is written: absolute paths, ``..`` and links (or
    device files) raise :class:`UnsafeArchiveError`.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                _check_member(info.filename, _zip_is_link(info), False)
            zf.extractall(dest)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for m in members:
                _check_member(m.name, m.issym() or m.islnk(), not (m.isfile() or m.isdir()))
            tf.extractall(dest, members=members, filter="data")
    elif archive.suffix == ".gz":
        target = dest / archive.stem
        with gzip.open(archive, "rb") as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out, CHUNK)
    else:
        raise ValueError(f"don't know how to extract {archive}")
    return dest
