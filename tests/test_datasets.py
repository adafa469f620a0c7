"""Tests for chainrule.datasets: IDX parsing, the cache/download path, and the toy generators.

No test touches the network: every test runs with ``fetch_url`` replaced, and the
dataset files are small IDX files the tests write themselves.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import socket
import struct
import urllib.error
import warnings
from pathlib import Path

import numpy as np
import pytest

from chainrule import backend
from chainrule.datasets import (
    CorruptDatasetError,
    DatasetError,
    DatasetNotFoundError,
    _download,
    _idx,
    fashion_mnist,
    make_gates,
    make_moons,
    make_spirals,
    make_study_sleep,
    make_xor,
    mnist,
)
from chainrule.datasets._idx import encode_idx, parse_idx, read_idx

REAL_FETCH = _download.fetch_url  # the tests below run it against a fake opener

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that reaches for the network; make retries instant."""

    def refuse(url, timeout, **_):
        pytest.fail(f"the test tried to download {url}")

    monkeypatch.setattr(_download, "fetch_url", refuse)
    monkeypatch.setattr(_download, "_urlopen", lambda request, timeout: refuse(request, timeout))
    monkeypatch.setattr(_download, "BACKOFF", 0.0)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def restore_backend():
    state, floatx = backend.get_random_state(), backend.floatx()
    yield
    backend.set_random_state(state)
    backend.set_floatx(floatx)


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """IDX bytes built by hand with struct (independent of encode_idx)."""
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def make_split(n_train: int = 5, n_test: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        FILES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        FILES[1]: rng.integers(0, 10, n_train, dtype=np.uint8),
        FILES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        FILES[3]: rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_files(folder: Path, arrays: dict[str, np.ndarray], gz: bool = True) -> dict[str, bytes]:
    """Write the arrays as IDX files; return the bytes written per file name."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            data = gzip.compress(data, mtime=0)
        else:
            name = name[: -len(".gz")]
        (folder / name).write_bytes(data)
        written[name] = data
    return written


def assert_split(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, name in zip((x_train, y_train, x_test, y_test), FILES):
        assert got.dtype == np.uint8
        assert got.flags.writeable
        np.testing.assert_array_equal(got, arrays[name])


def spec_for(gz_bytes: dict[str, bytes], mirrors=("https://a.example/", "https://b.example/")):
    """MNIST's spec with the checksums of the test's own files."""
    files = {}
    for field, name in zip(("train_images", "train_labels", "test_images", "test_labels"), FILES):
        data = gz_bytes[name]
        files[field] = _download.RemoteFile(
            name,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            md5=hashlib.md5(data).hexdigest(),
        )
    return dataclasses.replace(mnist.DATASET, mirrors=tuple(mirrors), **files)


def gz_payloads(arrays) -> dict[str, bytes]:
    return {name: gzip.compress(idx_bytes(a), mtime=0) for name, a in arrays.items()}


# --------------------------------------------------------------------------- IDX format


def test_parse_idx_reads_big_endian_header_and_values():
    data = bytes.fromhex("0000 0b02 00000002 00000003") + np.arange(6, dtype=">i2").tobytes()
    array = parse_idx(data)
    assert array.dtype == np.dtype("int16") and array.dtype.isnative
    assert array.shape == (2, 3)
    assert array.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert data[12:14] == b"\x00\x00" and data[14:16] == b"\x00\x01"


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_encode_and_parse_round_trip_every_idx_type(dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    decoded = parse_idx(encode_idx(array))
    assert decoded.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(decoded, array)


def test_encode_idx_rejects_types_idx_cannot_hold():
    with pytest.raises(TypeError, match=r"Received: array.dtype=int64$"):
        encode_idx(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"Received: array.shape=\(\)$"):
        encode_idx(np.uint8(3))


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "holds 0 bytes"),
        (b"\x00\x00", "holds 2 bytes"),
        (b"\x12\x34\x08\x01" + b"\x00" * 8, "magic number is 0x12340801"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "magic number is 0x00000701"),
        (b"\x00\x00\x08\x00", "declares 0 dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x05", "need 16 header bytes"),
        (idx_bytes(np.zeros((2, 28, 28), np.uint8))[:-1], "is truncated"),
        (idx_bytes(np.zeros((2, 28, 28), np.uint8)) + b"\x00", "longer than its header declares"),
        (b"\x00\x00\x08\x02\xff\xff\xff\xff\xff\xff\xff\xff", "is truncated"),
    ],
)
def test_parse_idx_rejects_broken_files_with_clear_errors(data, message):
    with pytest.raises(CorruptDatasetError, match=message) as info:
        parse_idx(data, "some/file")
    assert str(info.value).startswith("some/file ")


def test_truncated_header_message_gives_sizes():
    data = idx_bytes(np.zeros((2, 28, 28), np.uint8))[:100]
    with pytest.raises(CorruptDatasetError) as info:
        parse_idx(data, "f")
    assert str(info.value) == (
        "f is truncated: its header declares shape (2, 28, 28) of uint8, which needs 1584 "
        "bytes, but the file holds 100 bytes."
    )


def test_read_idx_accepts_gzip_and_raw_whatever_the_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    (tmp_path / "raw.gz").write_bytes(idx_bytes(array))  # misleading name, raw content
    (tmp_path / "packed").write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(tmp_path / "raw.gz"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "packed"), array)


def test_read_idx_reports_a_truncated_gzip_stream(tmp_path):
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((4, 28, 28), np.uint8)))[:30])
    with pytest.raises(CorruptDatasetError, match="damaged or truncated gzip file") as info:
        read_idx(path)
    assert str(path) in str(info.value)


# --------------------------------------------------------------------------- cache


def test_chainrule_home_defaults_to_dot_chainrule(monkeypatch, tmp_path):
    monkeypatch.delenv("CHAINRULE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _download.chainrule_home() == tmp_path / ".chainrule"
    assert _download.dataset_dir("mnist") == tmp_path / ".chainrule" / "datasets" / "mnist"


def test_published_checksums_are_well_formed():
    for spec in (mnist.DATASET, fashion_mnist.DATASET):
        assert [f.name for f in spec.files] == list(FILES)
        for f in spec.files:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
            assert len(f.md5) == 32 and int(f.md5, 16) >= 0
            assert f.size > 0
        assert all(m.endswith("/") for m in spec.mirrors)
    assert mnist.DATASET.train_images.size == 9912422
    assert fashion_mnist.DATASET.test_labels.size == 5148


def test_load_data_reads_user_placed_gz_files_with_a_checksum_warning(home, monkeypatch):
    arrays = make_split()
    write_files(home / "datasets" / "mnist", arrays)
    monkeypatch.setattr(_download, "download_file", lambda *a, **k: pytest.fail("downloaded"))
    with pytest.warns(UserWarning, match="does not match the published MNIST file") as record:
        result = mnist.load_data()
    assert len(record) == 4
    assert "valid IDX file, so it is used" in str(record[0].message)
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (5, 28, 28) and y_train.shape == (5,)
    assert x_test.shape == (3, 28, 28) and y_test.shape == (3,)
    assert_split(result, arrays)


def test_load_data_reads_uncompressed_files_without_warning(home, monkeypatch):
    arrays = make_split(seed=1)
    write_files(home / "datasets" / "fashion_mnist", arrays, gz=False)
    monkeypatch.setattr(_download, "download_file", lambda *a, **k: pytest.fail("downloaded"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fashion_mnist.load_data()
    assert_split(result, arrays)


def test_files_matching_the_checksums_load_silently(home, monkeypatch):
    arrays = make_split(seed=2)
    written = write_files(home / "datasets" / "mnist", arrays)
    monkeypatch.setattr(mnist, "DATASET", spec_for(written))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_split(mnist.load_data(), arrays)


def test_gz_and_uncompressed_files_can_be_mixed(home):
    arrays = make_split(seed=3)
    folder = home / "datasets" / "mnist"
    written = write_files(folder, {k: arrays[k] for k in FILES[:2]}, gz=False)
    written.update(write_files(folder, {k: arrays[k] for k in FILES[2:]}))
    assert sorted(written) == sorted(
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"] + list(FILES[2:])
    )
    with pytest.warns(UserWarning):
        assert_split(mnist.load_data(), arrays)


def test_missing_files_without_network_name_files_and_folder(home, monkeypatch):
    calls = []

    def offline(url, timeout, **_):
        calls.append(url)
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(_download, "fetch_url", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    folder = home / "datasets" / "mnist"
    assert isinstance(info.value, OSError) and isinstance(info.value, DatasetError)
    assert message.startswith("MNIST is not in the cache and could not be downloaded.")
    assert f"put them, gzipped or uncompressed, in the folder\n  {folder}\n" in message
    assert message.endswith("Missing:\n  " + "\n  ".join(FILES))
    assert "URLError: Name or service not known" in message
    # every mirror tried RETRIES times for the first file, then it gives up
    mirrors = mnist.DATASET.mirrors
    assert calls == [m + FILES[0] for m in mirrors for _ in range(_download.RETRIES)]
    assert not folder.exists() or list(folder.iterdir()) == []


def test_missing_error_lists_only_the_files_still_missing(home, monkeypatch):
    arrays = make_split()
    write_files(home / "datasets" / "fashion_mnist", {k: arrays[k] for k in FILES[:2]})

    def offline(url, timeout, **_):
        raise TimeoutError("timed out")

    monkeypatch.setattr(_download, "fetch_url", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        fashion_mnist.load_data()
    missing = str(info.value).split("Missing:\n")[1]
    assert missing == f"  {FILES[2]}\n  {FILES[3]}"
    assert "Fashion-MNIST is not in the cache" in str(info.value)
    assert "TimeoutError: timed out" in str(info.value)


def test_download_verifies_and_caches_atomically(home, monkeypatch, capsys):
    arrays = make_split(seed=4)
    payloads = gz_payloads(arrays)
    spec = spec_for(payloads)
    monkeypatch.setattr(mnist, "DATASET", spec)
    calls = []

    def serve(url, timeout, **_):
        calls.append(url)
        assert timeout == _download.TIMEOUT
        return payloads[url.rsplit("/", 1)[1]]

    monkeypatch.setattr(_download, "fetch_url", serve)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_split(mnist.load_data(), arrays)
    assert calls == ["https://a.example/" + name for name in FILES]
    assert "Downloading data from https://a.example/train-images-idx3-ubyte.gz" in (
        capsys.readouterr().out
    )
    folder = home / "datasets" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)  # no temporary files
    for name in FILES:
        assert (folder / name).read_bytes() == payloads[name]

    # Second load: everything is cached, nothing is downloaded.
    monkeypatch.setattr(_download, "download_file", lambda *a, **k: pytest.fail("downloaded"))
    assert_split(mnist.load_data(), arrays)


def test_truncated_download_falls_through_to_the_next_mirror(home, monkeypatch):
    arrays = make_split(seed=5)
    payloads = gz_payloads(arrays)
    monkeypatch.setattr(mnist, "DATASET", spec_for(payloads))
    calls = []

    def serve(url, timeout, **_):
        calls.append(url)
        data = payloads[url.rsplit("/", 1)[1]]
        return data[: len(data) // 2] if url.startswith("https://a.") else data

    monkeypatch.setattr(_download, "fetch_url", serve)
    assert_split(mnist.load_data(), arrays)
    assert calls[:4] == ["https://a.example/" + FILES[0]] * 3 + ["https://b.example/" + FILES[0]]


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda d: d[:-10], "truncated: received"),
        (lambda d: d + b"junk", "too long: received"),
        (lambda d: bytes([d[0] ^ 1]) + d[1:], "corrupt: SHA-256 is"),
    ],
)
def test_corrupt_downloads_raise_and_are_not_cached(home, monkeypatch, damage, reason):
    payloads = gz_payloads(make_split(seed=6))
    monkeypatch.setattr(mnist, "DATASET", spec_for(payloads))
    monkeypatch.setattr(
        _download, "fetch_url", lambda url, timeout, **_: damage(payloads[url.rsplit("/", 1)[1]])
    )
    with pytest.raises(DatasetNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    assert f"https://a.example/{FILES[0]}: {reason}" in message
    assert f"https://b.example/{FILES[0]}: {reason}" in message
    folder = home / "datasets" / "mnist"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_md5_is_checked_too(home, monkeypatch):
    payloads = gz_payloads(make_split(seed=7))
    spec = spec_for(payloads)
    bad = dataclasses.replace(spec.train_images, sha256=None, md5="0" * 32)
    monkeypatch.setattr(_download, "fetch_url", lambda url, timeout, **_: payloads[FILES[0]])
    path, failures = _download.download_file(bad, ("https://a.example/",), home, retries=1)
    assert path is None
    assert failures == [
        (
            f"https://a.example/{FILES[0]}: corrupt: MD5 is "
            f"{hashlib.md5(payloads[FILES[0]]).hexdigest()}, expected {'0' * 32}"
        )
    ]


def test_transient_errors_are_retried_on_the_same_mirror(home, monkeypatch):
    payloads = gz_payloads(make_split(seed=8))
    remote = spec_for(payloads).train_labels
    answers = [ConnectionResetError("reset"), urllib.error.URLError("down"), "ok"]
    calls = []

    def flaky(url, timeout, **_):
        calls.append(url)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return payloads[FILES[1]]

    monkeypatch.setattr(_download, "fetch_url", flaky)
    path, failures = _download.download_file(remote, ("https://a.example/",), home)
    assert path == home / FILES[1] and path.read_bytes() == payloads[FILES[1]]
    assert calls == ["https://a.example/" + FILES[1]] * 3
    assert failures == [
        f"https://a.example/{FILES[1]}: ConnectionResetError: reset",
        f"https://a.example/{FILES[1]}: URLError: down",
    ]


def test_http_404_moves_to_the_next_mirror_without_retrying(home, monkeypatch):
    payloads = gz_payloads(make_split(seed=9))
    remote = spec_for(payloads).test_labels
    calls = []

    def serve(url, timeout, **_):
        calls.append(url)
        if url.startswith("https://a."):
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        return payloads[FILES[3]]

    monkeypatch.setattr(_download, "fetch_url", serve)
    path, failures = _download.download_file(
        remote, ("https://a.example/", "https://b.example/"), home / "new" / "dir"
    )
    assert path == home / "new" / "dir" / FILES[3]
    assert calls == ["https://a.example/" + FILES[3], "https://b.example/" + FILES[3]]
    assert failures == [f"https://a.example/{FILES[3]}: HTTP 404 Not Found"]


def test_an_unresolvable_host_is_not_retried(home, monkeypatch):
    calls = []

    def no_dns(url, timeout, **_):
        calls.append(url)
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(_download, "fetch_url", no_dns)
    with pytest.raises(DatasetNotFoundError, match=r"\[Errno -2\] Name or service not known"):
        fashion_mnist.load_data()
    assert calls == [m + FILES[0] for m in fashion_mnist.DATASET.mirrors]


def test_a_failed_write_leaves_no_file_behind(home, monkeypatch):
    payloads = gz_payloads(make_split(seed=10))
    remote = spec_for(payloads).train_labels
    monkeypatch.setattr(_download, "fetch_url", lambda url, timeout, **_: payloads[FILES[1]])

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(DatasetError, match="CHAINRULE_HOME to a writable folder"):
        _download.download_file(remote, ("https://a.example/",), home)
    assert list(home.iterdir()) == []


@pytest.mark.parametrize(
    "arrays_change, message",
    [
        (
            {FILES[0]: np.zeros((5, 27, 28), np.uint8)},
            r"expected uint8 images of shape \(n, 28, 28\)",
        ),
        ({FILES[0]: np.zeros((5, 28, 28), np.int16)}, "found int16 data"),
        ({FILES[1]: np.zeros((5, 1), np.uint8)}, r"expected uint8 labels of shape \(n,\)"),
        ({FILES[1]: np.zeros(4, np.uint8)}, "holds 5 images but .* holds 4 labels"),
        (
            {FILES[3]: np.array([1, 10, 2], np.uint8)},
            r"holds label 10; MNIST labels lie in \[0, 10\)",
        ),
    ],
)
def test_files_of_the_wrong_shape_or_type_are_rejected(home, arrays_change, message):
    arrays = make_split()
    arrays.update(arrays_change)
    folder = home / "datasets" / "mnist"
    folder.mkdir(parents=True)
    for name, array in arrays.items():
        code = {np.dtype(np.uint8): 0x08, np.dtype(np.int16): 0x0B}[array.dtype]
        (folder / name[:-3]).write_bytes(idx_bytes(array, code))
    with pytest.raises(CorruptDatasetError, match=message):
        mnist.load_data()


def test_a_corrupt_cached_file_is_reported_and_kept(home, monkeypatch):
    arrays = make_split()
    folder = home / "datasets" / "mnist"
    written = write_files(folder, arrays)
    broken = written[FILES[2]][:40]
    (folder / FILES[2]).write_bytes(broken)
    monkeypatch.setattr(_download, "download_file", lambda *a, **k: pytest.fail("downloaded"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CorruptDatasetError) as info:
            mnist.load_data()
    message = str(info.value)
    assert message.startswith(f"{folder / FILES[2]} is a damaged or truncated gzip file")
    assert message.endswith(
        "Delete it (it will be downloaded again) or replace it with a good copy."
    )
    assert (folder / FILES[2]).read_bytes() == broken


# --------------------------------------------------------------------------- toys


TRUTH = {
    "and": [0, 0, 0, 1],
    "nand": [1, 1, 1, 0],
    "or": [0, 1, 1, 1],
    "nor": [1, 0, 0, 0],
    "xor": [0, 1, 1, 0],
    "xnor": [1, 0, 0, 1],
}


@pytest.mark.parametrize("gate", sorted(TRUTH))
def test_make_gates_truth_tables(gate):
    x, y = make_gates(gate)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.tolist() == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y.tolist() == TRUTH[gate]
    a, b = x[:, 0].astype(bool), x[:, 1].astype(bool)
    logic = {
        "and": a & b,
        "nand": ~(a & b),
        "or": a | b,
        "nor": ~(a | b),
        "xor": a ^ b,
        "xnor": ~(a ^ b),
    }
    assert y.tolist() == logic[gate].astype(int).tolist()


def test_make_gates_is_case_insensitive_and_takes_a_dtype():
    x, y = make_gates("XOR", dtype="float64")
    assert x.dtype == np.float64 and y.tolist() == [0, 1, 1, 0]


def test_make_gates_unknown_gate_suggests_a_name():
    with pytest.raises(ValueError) as info:
        make_gates("xro")
    assert str(info.value) == (
        "gate must be one of 'and', 'nand', 'or', 'nor', 'xor', 'xnor'. "
        "Did you mean 'xor'? Received: gate='xro'"
    )


def test_make_xor_default_is_the_truth_table():
    x, y = make_xor()
    gx, gy = make_gates("xor")
    np.testing.assert_array_equal(x, gx)
    np.testing.assert_array_equal(y, gy)


def test_make_xor_clouds_are_balanced_and_labelled_by_corner():
    x, y = make_xor(n_samples=400, noise=0.1, seed=3)
    assert x.shape == (400, 2) and x.dtype == np.float32 and y.dtype == np.int64
    corner = np.round(x).astype(int)  # noise 0.1 keeps every point nearest its corner
    assert (y == (corner[:, 0] ^ corner[:, 1])).all()
    counts = {tuple(c): int(n) for c, n in zip(*np.unique(corner, axis=0, return_counts=True))}
    assert counts == {(0, 0): 100, (0, 1): 100, (1, 0): 100, (1, 1): 100}
    assert 0.08 < float(np.std(x - corner)) < 0.12
    x2, y2 = make_xor(n_samples=400, noise=0.1, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(x, make_xor(n_samples=400, noise=0.1, seed=4)[0])


def test_make_xor_without_noise_repeats_the_corners():
    x, y = make_xor(n_samples=6, shuffle=False)
    assert x.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [0, 0], [0, 1]]
    assert y.tolist() == [0, 1, 1, 0, 0, 1]


def test_seed_none_follows_set_random_seed(restore_backend):
    backend.set_random_seed(11)
    a = make_spirals(50, seed=None)
    backend.set_random_seed(11)
    b = make_spirals(50)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_seed_none_draws_from_chainrule_generator(restore_backend):
    backend.set_random_seed(5)
    first = make_study_sleep(20)[0]
    second = make_study_sleep(20)[0]
    backend.set_random_seed(5)
    np.testing.assert_array_equal(make_study_sleep(20)[0], first)
    assert not np.array_equal(first, second)


def test_make_spirals_exact_points_without_noise():
    x, y = make_spirals(4, n_classes=2, noise=0.0, shuffle=False, dtype="float64")
    s, c = np.sin(4.0), np.cos(4.0)
    np.testing.assert_allclose(x, [[0, 0], [s, c], [0, 0], [-s, -c]], atol=1e-15)
    assert y.tolist() == [0, 0, 1, 1]


def test_make_spirals_counts_and_radius():
    x, y = make_spirals(301, n_classes=3, noise=0.3, seed=0)
    assert x.shape == (301, 2) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [101, 100, 100]
    assert np.linalg.norm(x, axis=1).max() <= 1.0 + 1e-6  # noise moves the angle only
    assert y.tolist() != sorted(y.tolist())  # shuffled
    assert make_spirals(301, 3, seed=0, shuffle=False)[1].tolist() == sorted(y.tolist())


def test_make_moons_exact_points_and_balance():
    x, y = make_moons(4, shuffle=False)
    np.testing.assert_allclose(x, [[1, 0], [-1, 0], [0, 0.5], [2, 0.5]], atol=1e-7)
    assert y.tolist() == [0, 0, 1, 1]
    x, y = make_moons(101, noise=0.05, seed=1)
    assert x.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    clean, clean_y = make_moons(101, seed=1)  # same shuffle, no noise
    np.testing.assert_array_equal(y, clean_y)
    assert 0.04 < float(np.std(x - clean)) < 0.06


def test_make_study_sleep_follows_the_lesson_formula():
    x, y = make_study_sleep(1000, seed=812)
    assert x.shape == (1000, 2) and y.shape == (1000, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert x.max(axis=0).tolist() == [1.0, 1.0]
    # Recreate the raw hours exactly as documented: study then sleep, U(1, 8).
    rng = np.random.default_rng(812)
    study, sleep = rng.uniform(1, 8, (1000, 1)), rng.uniform(1, 8, (1000, 1))
    np.testing.assert_allclose(x[:, :1] * study.max(), study, rtol=1e-6)
    np.testing.assert_allclose(x[:, 1:] * sleep.max(), sleep, rtol=1e-6)
    np.testing.assert_allclose(y * 100, 5 * study + 2 * sleep + 40, rtol=1e-6)
    # The score is the formula of the returned data: 100 y = 5 m0 x0 + 2 m1 x1 + 40.
    m = np.array([study.max(), sleep.max()])
    np.testing.assert_allclose(100 * y[:, 0], x @ (np.array([5, 2]) * m) + 40, rtol=1e-5)
    assert 1 <= m.min() and m.max() <= 8
    assert 0.47 <= float(y.min()) and float(y.max()) <= 0.96


def test_generators_follow_floatx(restore_backend):
    backend.set_floatx("float64")
    assert make_gates()[0].dtype == np.float64
    assert make_study_sleep(5, seed=0)[1].dtype == np.float64
    assert make_moons(6, seed=0)[0].dtype == np.float64


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: make_xor(n_samples=0),
            ValueError,
            "n_samples must be an integer >= 1. Received: n_samples=0",
        ),
        (lambda: make_xor(n_samples=2.5), ValueError, "Received: n_samples=2.5"),
        (
            lambda: make_xor(noise=-0.1),
            ValueError,
            "noise must be a finite number >= 0. Received: noise=-0.1",
        ),
        (lambda: make_moons(noise=float("nan")), ValueError, "Received: noise=nan"),
        (
            lambda: make_moons(1),
            ValueError,
            "n_samples must be an integer >= 2. Received: n_samples=1",
        ),
        (lambda: make_moons(seed=-1), ValueError, "Received: seed=-1"),
        (lambda: make_moons(seed="42"), ValueError, "Received: seed='42'"),
        (
            lambda: make_moons(shuffle="yes"),
            TypeError,
            "shuffle must be True or False. Received: shuffle='yes'",
        ),
        (
            lambda: make_spirals(n_classes=1),
            ValueError,
            "n_classes must be an integer >= 2. Received: n_classes=1",
        ),
        (lambda: make_spirals(2, n_classes=3), ValueError, "Received: n_samples=2, n_classes=3"),
        (
            lambda: make_study_sleep(n=True),
            ValueError,
            "n must be an integer >= 1. Received: n=True",
        ),
        (lambda: make_study_sleep(dtype="int32"), ValueError, "Received: dtype='int32'"),
        (lambda: make_gates(dtype="nonsense"), ValueError, "Received: dtype='nonsense'"),
    ],
)
def test_generators_reject_bad_arguments(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value).endswith(message)


# --------------------------------------------------------------------------- bounded downloads


class FakeResponse:
    """What urlopen returns: headers and a body read in chunks; counts what was read."""

    def __init__(self, body: bytes, length: int | None = None, clock=None):
        self.body, self.pos, self.clock = body, 0, clock
        self.headers = {} if length is None else {"Content-Length": str(length)}

    def read(self, n):
        if self.clock is not None:
            self.clock[0] += 10.0  # every read takes ten (fake) seconds
        chunk = self.body[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def fake_opener(monkeypatch, response):
    monkeypatch.setattr(_download, "_urlopen", lambda request, timeout: response)


def test_fetch_reads_the_whole_body_within_the_bounds(monkeypatch):
    fake_opener(monkeypatch, FakeResponse(b"x" * 200_000, length=200_000))
    assert REAL_FETCH("https://a.example/f", 1.0, max_bytes=200_000) == b"x" * 200_000


def test_fetch_refuses_an_announced_size_above_the_bound(monkeypatch):
    response = FakeResponse(b"x" * 10, length=10**12)
    fake_opener(monkeypatch, response)
    with pytest.raises(_download.DownloadLimitError, match="announces 1000000000000 bytes"):
        REAL_FETCH("https://a.example/f", 1.0, max_bytes=5000)
    assert response.pos == 0  # nothing was read


def test_fetch_stops_reading_past_the_bound_without_content_length(monkeypatch):
    response = FakeResponse(b"x" * 10**7)
    fake_opener(monkeypatch, response)
    with pytest.raises(_download.DownloadLimitError, match="more than 5000 bytes"):
        REAL_FETCH("https://a.example/f", 1.0, max_bytes=5000)
    assert response.pos == 5001  # one byte past the bound, no more


def test_fetch_has_an_overall_deadline(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(_download.time, "monotonic", lambda: clock[0])
    response = FakeResponse(b"x" * 10**6, clock=clock)
    fake_opener(monkeypatch, response)
    with pytest.raises(_download.DownloadLimitError, match="did not finish in time"):
        REAL_FETCH("https://a.example/f", 30.0, deadline=35.0)
    assert response.pos < 10**6


@pytest.mark.parametrize("url", ["http://a.example/f", "ftp://a.example/f", "file:///etc/passwd"])
def test_fetch_refuses_what_is_not_https(monkeypatch, url):
    monkeypatch.setattr(_download, "_urlopen", lambda *a: pytest.fail("opened"))
    with pytest.raises(ValueError, match=r"url must be an https:// address.*Received: url="):
        REAL_FETCH(url, 1.0)


def test_download_passes_the_published_size_and_a_deadline(home, monkeypatch):
    seen = []

    def serve(url, timeout, max_bytes=None, deadline=None):
        seen.append((max_bytes, deadline))
        raise OSError("offline")

    monkeypatch.setattr(_download, "fetch_url", serve)
    remote = mnist.DATASET.train_labels
    _download.download_file(remote, ("https://a.example/",), home, retries=1)
    assert seen[0][0] == remote.size + _download.SIZE_MARGIN
    assert seen[0][1] is not None


def test_every_published_mirror_is_https():
    for spec in (mnist.DATASET, fashion_mnist.DATASET):
        assert all(m.startswith("https://") for m in spec.mirrors), spec.name
    with pytest.raises(ValueError, match="mirror must be an https:// address"):
        _download.download_file(mnist.DATASET.train_labels, ("http://a.example/",), Path("."))


def test_gz_header_promising_more_than_the_file_holds_is_refused_before_decompressing():
    header = struct.pack(">HBB3I", 0, 0x08, 3, 60000, 28, 28) + b"\0" * 100
    data = gzip.compress(header)
    with pytest.raises(CorruptDatasetError, match=r"promises 47040016 bytes, more than a gzip "
                       r"file of \d+ bytes can hold"):
        _idx.decompress_idx(data, "evil.gz")


def test_gz_decompression_never_produces_much_more_than_the_header_promises():
    array = np.arange(100, dtype=np.uint8).reshape(10, 10)
    bomb = gzip.compress(idx_bytes(array) + b"\0" * 5_000_000)  # a small file, 5 MB of zeros
    out = _idx.decompress_idx(bomb, "bomb.gz")
    assert len(out) == len(idx_bytes(array)) + 1
    with pytest.raises(CorruptDatasetError, match="longer than its header declares"):
        parse_idx(out, "bomb.gz")


def test_gz_round_trip_multi_member_and_truncation():
    array = np.arange(600, dtype=np.uint8).reshape(20, 30)
    raw = idx_bytes(array)
    np.testing.assert_array_equal(parse_idx(_idx.decompress_idx(gzip.compress(raw))), array)
    two = gzip.compress(raw[:50]) + gzip.compress(raw[50:])
    np.testing.assert_array_equal(parse_idx(_idx.decompress_idx(two)), array)
    with pytest.raises(CorruptDatasetError, match="damaged or truncated gzip"):
        _idx.decompress_idx(gzip.compress(raw)[:-30], "cut.gz")


def test_keras_cache_of_fashion_mnist_is_read(home, monkeypatch):
    keras = home / "keras"
    monkeypatch.setenv("KERAS_HOME", str(keras))
    arrays = make_split()
    write_files(keras / "datasets" / "fashion-mnist", arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # not the published bytes
        assert_split(fashion_mnist.load_data(), arrays)


def test_keras_mnist_npz_is_read(home, monkeypatch):
    keras = home / "keras"
    monkeypatch.setenv("KERAS_HOME", str(keras))
    arrays = make_split()
    (keras / "datasets").mkdir(parents=True)
    np.savez(keras / "datasets" / "mnist.npz", x_train=arrays[FILES[0]], y_train=arrays[FILES[1]],
             x_test=arrays[FILES[2]], y_test=arrays[FILES[3]])
    with pytest.warns(UserWarning, match="mnist.npz does not match the published MNIST file"):
        assert_split(mnist.load_data(), arrays)


def test_keras_home_defaults_to_dot_keras(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _download.keras_home() == tmp_path / ".keras"


def test_a_file_without_a_published_size_is_still_bounded(home, monkeypatch):
    seen = []

    def serve(url, timeout, max_bytes=None, deadline=None):
        seen.append(max_bytes)
        raise OSError("offline")

    monkeypatch.setattr(_download, "fetch_url", serve)
    _download.download_file(_download.RemoteFile("x.bin"), ("https://a.example/",), home,
                            retries=1)
    assert seen == [_download.MAX_UNSIZED_BYTES]
