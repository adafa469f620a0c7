"""utils.get_file: Keras's cache layout and arguments on chainrule's bounded, checked downloads."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from chainrule.datasets import CorruptDatasetError, DatasetNotFoundError, _download
from chainrule.utils import get_file, validate_file

ORIGIN = "https://example.com/files/data.bin"
PAYLOAD = b"chainrule" * 100


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(_download, "BACKOFF", 0.0)
    monkeypatch.setattr(_download, "_urlopen", lambda *a: pytest.fail("network"))


@pytest.fixture
def served(monkeypatch):
    """Serve files from a dict; record each (url, max_bytes)."""
    files: dict[str, bytes] = {}
    calls: list = []

    def serve(url, timeout, max_bytes=None, deadline=None):
        calls.append((url, max_bytes))
        if url not in files:
            raise OSError("offline")
        return files[url]

    monkeypatch.setattr(_download, "fetch_url", serve)
    return files, calls


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_downloads_once_into_the_cache_with_a_default_byte_bound(served, tmp_path):
    files, calls = served
    files[ORIGIN] = PAYLOAD
    path = get_file(origin=ORIGIN, file_hash=sha(PAYLOAD))
    assert Path(path) == tmp_path / "home" / "datasets" / "data.bin"
    assert Path(path).read_bytes() == PAYLOAD
    assert calls == [(ORIGIN, 4 << 30)]
    assert get_file(origin=ORIGIN, file_hash=sha(PAYLOAD)) == path  # cached: no second call
    assert len(calls) == 1


def test_a_cached_file_with_another_hash_is_downloaded_again(served, tmp_path):
    files, calls = served
    files[ORIGIN] = PAYLOAD
    stale = tmp_path / "home" / "datasets" / "data.bin"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    get_file("data.bin", ORIGIN, file_hash=hashlib.md5(PAYLOAD).hexdigest())
    assert stale.read_bytes() == PAYLOAD and len(calls) == 1


def test_a_download_with_the_wrong_hash_is_not_cached(served, tmp_path):
    files, _ = served
    files[ORIGIN] = PAYLOAD
    with pytest.raises(DatasetNotFoundError, match="corrupt: SHA-256 is"):
        get_file(origin=ORIGIN, file_hash="0" * 64, cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "datasets" / "data.bin").exists()


def test_keras_cache_is_used_when_valid(served, tmp_path):
    _, calls = served
    keras_copy = tmp_path / "keras" / "datasets" / "data.bin"
    keras_copy.parent.mkdir(parents=True)
    keras_copy.write_bytes(PAYLOAD)
    assert get_file(origin=ORIGIN, file_hash=sha(PAYLOAD)) == str(keras_copy)
    assert calls == []


def test_max_bytes_is_passed_on(served):
    files, calls = served
    files[ORIGIN] = PAYLOAD
    get_file(origin=ORIGIN, max_bytes=5000, cache_subdir="x")
    assert calls[0][1] == 5000


@pytest.mark.parametrize("kwargs,message", [
    ({"origin": None}, r'"origin" argument.*Received: origin=None'),
    ({"origin": "http://example.com/a"}, r"origin must be an https:// address.*Received: origin="),
    ({"origin": ORIGIN, "fname": "a/b.bin"}, r"fname must be a file name.*Received: fname='a/b.bin'"),
    ({"origin": ORIGIN, "file_hash": "ab", "hash_algorithm": "sha1"},
     r"Received: hash_algorithm='sha1'"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        get_file(**kwargs)


def tar_bytes(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo("link")
            info.type, info.linkname = tarfile.SYMTYPE, symlink
            tar.addfile(info)
    return buf.getvalue()


def test_extract_tar_gz_with_keras_naming(served, tmp_path):
    files, _ = served
    url = "https://example.com/flowers.tgz"
    files[url] = tar_bytes({"flowers/a.txt": b"A", "flowers/b/c.txt": b"C"})
    path = Path(get_file("flowers.tgz", url, extract=True))
    assert path == tmp_path / "home" / "datasets" / "flowers_extracted"
    assert (path / "flowers" / "a.txt").read_bytes() == b"A"
    assert (path / "flowers" / "b" / "c.txt").read_bytes() == b"C"
    path2 = Path(get_file("flowers", url, extract=True))  # no dot: the folder is the name
    assert path2 == tmp_path / "home" / "datasets" / "flowers"
    assert (tmp_path / "home" / "datasets" / "flowers_archive").is_file()


def test_extract_zip(served):
    files, _ = served
    url = "https://example.com/texts.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("texts/x.txt", "hello")
    files[url] = buf.getvalue()
    path = Path(get_file(origin=url, extract=True))
    assert (path / "texts" / "x.txt").read_text() == "hello"


@pytest.mark.parametrize("archive,message", [
    (tar_bytes({"../escape.txt": b"x"}), "outside the extraction folder"),
    (tar_bytes({"/etc/evil": b"x"}), "outside the extraction folder"),
    (tar_bytes({"ok.txt": b"x"}, symlink="/etc/passwd"), "is a link or a device"),
])
def test_unsafe_archives_are_not_extracted(served, tmp_path, archive, message):
    files, _ = served
    url = "https://example.com/evil.tar.gz"
    files[url] = archive
    with pytest.raises(CorruptDatasetError, match=message):
        get_file(origin=url, extract=True)
    assert not (tmp_path / "home" / "datasets" / "evil_extracted").exists()
    assert not (tmp_path / "home" / "escape.txt").exists()


def test_validate_file(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(PAYLOAD)
    assert validate_file(f, sha(PAYLOAD))
    assert validate_file(f, hashlib.md5(PAYLOAD).hexdigest(), "md5")
    assert not validate_file(f, "0" * 64)
