"""CIFAR-10/100 from small archives of Keras's layout, parsed without unpickling; no network."""

from __future__ import annotations

import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from chainrule.datasets import (
    CorruptDatasetError,
    DatasetNotFoundError,
    UnsafeDatasetError,
    _download,
    cifar10,
    cifar100,
)


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    def refuse(url, timeout, **_):
        raise OSError("offline")

    monkeypatch.setattr(_download, "fetch_url", refuse)
    monkeypatch.setattr(_download, "BACKOFF", 0.0)
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))


def batch(rng, n, keys):
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    d = {b"batch_label": b"training batch", b"data": data,
         b"filenames": [b"img_%d.png" % i for i in range(n)]}
    for key, high in keys.items():
        d[key.encode()] = rng.integers(0, high, n).tolist()
    return d


def expected_images(batches):
    """Rows of 1024 red, 1024 green, 1024 blue values, as (n, 32, 32, 3), spelled out."""
    rows = np.concatenate([b[b"data"] for b in batches])
    out = np.empty((len(rows), 32, 32, 3), dtype=np.uint8)
    for c in range(3):
        out[..., c] = rows[:, c * 1024:(c + 1) * 1024].reshape(-1, 32, 32)
    return out


def tar_of(folder, files, protocol=2):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, d in files.items():
            raw = d if isinstance(d, bytes) else pickle.dumps(d, protocol=protocol)
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return buf.getvalue()


def cifar10_files(rng):
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {n: batch(rng, 3, {"labels": 10}) for n in names}


@pytest.mark.parametrize("protocol", [2, 4])
def test_cifar10_from_the_archive_in_the_cache(tmp_path, protocol):
    files = cifar10_files(np.random.default_rng(protocol))
    folder = _download.dataset_dir("cifar10")
    folder.mkdir(parents=True)
    (folder / "cifar-10-python.tar.gz").write_bytes(tar_of("cifar-10-batches-py", files, protocol))
    with pytest.warns(UserWarning, match="does not match the published CIFAR-10 file"):
        (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    train = [files[f"data_batch_{i}"] for i in range(1, 6)]
    np.testing.assert_array_equal(x_train, expected_images(train))
    np.testing.assert_array_equal(x_test, expected_images([files["test_batch"]]))
    assert x_train.shape == (15, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (15, 1) and y_train.dtype == np.uint8
    assert y_train[:, 0].tolist() == [v for b in train for v in b[b"labels"]]
    assert y_test[:, 0].tolist() == files["test_batch"][b"labels"]


def test_cifar10_from_keras_extracted_folder(tmp_path):
    files = cifar10_files(np.random.default_rng(1))
    folder = tmp_path / "keras" / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, d in files.items():
        (folder / name).write_bytes(pickle.dumps(d, protocol=2))
    (_, y_train), (x_test, _) = cifar10.load_data()
    np.testing.assert_array_equal(x_test, expected_images([files["test_batch"]]))
    assert len(y_train) == 15


@pytest.mark.parametrize("label_mode,high", [("fine", 100), ("coarse", 20)])
def test_cifar100_label_modes(label_mode, high):
    rng = np.random.default_rng(5)
    files = {n: batch(rng, 4, {"fine_labels": 100, "coarse_labels": 20}) for n in ("train", "test")}
    keras = _download.keras_home() / "datasets"
    keras.mkdir(parents=True)
    (keras / "cifar-100-python-target_archive").write_bytes(tar_of("cifar-100-python", files))
    with pytest.warns(UserWarning):
        (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    assert y_train[:, 0].tolist() == files["train"][f"{label_mode}_labels".encode()]
    assert y_test.shape == (4, 1) and y_test.dtype == np.int64
    np.testing.assert_array_equal(x_train, expected_images([files["train"]]))


class Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_malicious_batch_is_refused_without_running(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = cifar10_files(np.random.default_rng(2))
    files["data_batch_3"] = pickle.dumps({b"data": Boom()}, protocol=2)
    folder = _download.dataset_dir("cifar10") / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, d in files.items():
        (folder / name).write_bytes(d if isinstance(d, bytes) else pickle.dumps(d, protocol=2))
    with pytest.raises(UnsafeDatasetError, match=r"data_batch_3 was refused"):
        cifar10.load_data()
    assert not (tmp_path / "PWNED").exists()


def test_a_batch_without_images_is_corrupt():
    files = cifar10_files(np.random.default_rng(3))
    files["test_batch"][b"data"] = files["test_batch"][b"data"][:, :100]
    folder = _download.dataset_dir("cifar10") / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name, d in files.items():
        (folder / name).write_bytes(pickle.dumps(d, protocol=2))
    with pytest.raises(CorruptDatasetError, match="test_batch should hold 'data'"):
        cifar10.load_data()


def test_offline_without_files_names_the_archive_and_folder():
    with pytest.raises(DatasetNotFoundError) as info:
        cifar10.load_data()
    assert "cifar-10-python.tar.gz" in str(info.value)
    assert str(_download.dataset_dir("cifar10")) in str(info.value)


def test_label_mode_is_checked():
    with pytest.raises(ValueError, match=r"Received: label_mode='medium'"):
        cifar100.load_data(label_mode="medium")


def test_published_origins_are_https():
    for module in (cifar10, cifar100):
        assert module.DATASET.origin.startswith("https://")
