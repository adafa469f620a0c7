"""IMDB, Reuters and Boston housing: Keras's results on small files of Keras's format, and no pickle.

The fixture tests/fixtures/keras_sequence_datasets.npz (tools/record_sequence_datasets.py)
holds small ``.npz`` payloads written by NumPy exactly as Keras's files are (object
arrays of lists of ints) and what Keras 3's own loaders returned for them.
No test touches the network.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import (
    CorruptDatasetError,
    DatasetNotFoundError,
    UnsafeDatasetError,
    _download,
    boston_housing,
    imdb,
    reuters,
)
from chainrule.datasets._npz import read_npz
from chainrule.datasets._safe_pickle import PickleFormatError, UnsafePickleError, loads_safely

FIXTURE = Path(__file__).parent / "fixtures" / "keras_sequence_datasets.npz"


@pytest.fixture(scope="module")
def recorded():
    with np.load(FIXTURE, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    record = json.loads(data.pop("record").tobytes())
    return record, data


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    def refuse(url, timeout, **_):
        pytest.fail(f"the test tried to download {url}")

    monkeypatch.setattr(_download, "fetch_url", refuse)
    monkeypatch.setattr(_download, "BACKOFF", 0.0)
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))


def place(name: str, data: bytes, where: str = "chainrule") -> Path:
    if where == "chainrule":
        folder = _download.dataset_dir(name.split(".")[0].replace("_word_index", ""))
    else:
        folder = _download.keras_home() / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


MODULES = {"imdb": imdb, "reuters": reuters, "boston_housing": boston_housing}


def test_results_equal_keras_for_every_recorded_argument_set(recorded):
    record, data = recorded
    for name in MODULES:
        place(f"{name}.npz", data[f"file_{name}"].tobytes())
    assert record["cases"], "the fixture holds no cases"
    for case in record["cases"]:
        module, key = MODULES[case["dataset"]], case["key"]
        with pytest.warns(UserWarning, match="does not match the published"):
            (xa, ya), (xb, yb) = module.load_data(**case["args"])
        np.testing.assert_array_equal(ya, data[f"{key}_y_train"], err_msg=key)
        np.testing.assert_array_equal(yb, data[f"{key}_y_test"], err_msg=key)
        if case["dataset"] == "boston_housing":
            np.testing.assert_array_equal(xa, data[f"{key}_x_train"])
            np.testing.assert_array_equal(xb, data[f"{key}_x_test"])
            continue
        assert xa.dtype == object and xa.ndim == 1
        assert xa.tolist() == record[key]["x_train"], (key, case["args"])
        assert xb.tolist() == record[key]["x_test"], (key, case["args"])
        assert all(type(w) is int for s in xa for w in s)


def test_keras_cache_is_read_when_chainrule_has_no_copy(recorded):
    record, data = recorded
    place("imdb.npz", data["file_imdb"].tobytes(), where="keras")
    with pytest.warns(UserWarning):
        (xa, _), _ = imdb.load_data()
    assert xa.tolist() == record["imdb_0"]["x_train"]


def test_missing_file_offline_names_file_and_folder(monkeypatch):
    def offline(url, timeout, **_):
        raise OSError("network is unreachable")

    monkeypatch.setattr(_download, "fetch_url", offline)
    with pytest.raises(DatasetNotFoundError) as info:
        imdb.load_data()
    message = str(info.value)
    assert "imdb.npz" in message and str(_download.dataset_dir("imdb")) in message
    assert "network is unreachable" in message


def test_download_is_checked_against_the_published_hash(monkeypatch, recorded):
    _, data = recorded
    served = []

    def serve(url, timeout, max_bytes=None, deadline=None):
        served.append((url, max_bytes))
        return data["file_imdb"].tobytes()

    monkeypatch.setattr(_download, "fetch_url", serve)
    with pytest.raises(DatasetNotFoundError, match="truncated: received"):
        imdb.load_data()
    assert served[0][0] == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
    assert served[0][1] == imdb.FILE.size + _download.SIZE_MARGIN
    assert not (_download.dataset_dir("imdb") / "imdb.npz").exists()


def test_word_index_is_read_with_json():
    place("imdb_word_index.json", json.dumps({"the": 1, "and": 2}).encode())
    with pytest.warns(UserWarning):
        assert imdb.get_word_index() == {"the": 1, "and": 2}
    place("reuters_word_index.json", b"not json")
    with pytest.warns(UserWarning), pytest.raises(CorruptDatasetError, match="not a JSON"):
        reuters.get_word_index()


def test_label_names():
    names = reuters.get_label_names()
    assert len(names) == 46 and names[:2] == ("cocoa", "grain") and names[-1] == "lead"


# --------------------------------------------------------------- the pickle is never run


class Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def npz_with_member(name: str, npy: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name + ".npy", npy)
    return buf.getvalue()


def object_npy(payload: bytes, shape=(1,)) -> bytes:
    header = np.lib.format.header_data_from_array_1_0(np.empty(shape, dtype=object))
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + payload


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_a_malicious_pickle_is_refused_without_running(tmp_path, monkeypatch, protocol):
    monkeypatch.chdir(tmp_path)
    evil = object_npy(pickle.dumps(Boom(), protocol=protocol))
    data = npz_with_member("x_train", evil)
    with pytest.raises(UnsafeDatasetError, match=r"x_train was refused: .*os|posix"):
        read_npz(data, "imdb.npz")
    place("imdb.npz", data)
    with pytest.warns(UserWarning), pytest.raises(UnsafeDatasetError, match="imdb.npz"):
        imdb.load_data()
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("stream,error,message", [
    (b"cbuiltins\neval\n(S'1'\ntR.", UnsafePickleError, "builtins.eval"),
    (b"\x80\x02cnumpy\ndtype\nq\x00X\x02\x00\x00\x00i8q\x01K\x00K\x01\x87q\x02R.",
     UnsafePickleError, "not plain data"),
    (b"\x80\x02]q\x00(K\x01K\x02e", PickleFormatError, "truncated"),
    (b"\x80\x02(K\x01i__main__\nX\n.", UnsafePickleError, "INST"),
    (b"\x80\x02K\x01K\x02.", PickleFormatError, "malformed stack"),
    (b"\x80\x02h\x05.", PickleFormatError, "memo entry 5"),
])
def test_safe_reader_refuses_what_is_not_plain_data(stream, error, message):
    with pytest.raises(error, match=message):
        loads_safely(stream)


def test_safe_reader_matches_pickle_on_numpy_object_arrays():
    rng = np.random.default_rng(0)
    arr = np.empty(50, dtype=object)
    arr[:] = [rng.integers(-5, 2**31 - 1, size=rng.integers(0, 300)).tolist() for _ in range(50)]
    for protocol in (2, 3, 4):
        got = loads_safely(pickle.dumps(arr, protocol=protocol))
        assert got.dtype == object and got.shape == arr.shape
        assert got.tolist() == arr.tolist()
    numeric = {"data": np.arange(24, dtype=np.uint8).reshape(2, 12), b"labels": [1, 2]}
    got = loads_safely(pickle.dumps(numeric, protocol=2))
    np.testing.assert_array_equal(got["data"], numeric["data"])
    assert got[b"labels"] == [1, 2]


def test_npz_members_that_claim_to_expand_too_much_are_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", b"\0" * 1000)
    data = bytearray(buf.getvalue())
    central = data.index(b"PK\x01\x02")  # the central directory entry: claim 4 GB
    data[central + 24 : central + 28] = (2**32 - 1).to_bytes(4, "little")
    with pytest.raises(CorruptDatasetError, match=r"bomb.npz:x claims 4294967295 bytes"):
        read_npz(bytes(data), "bomb.npz")


@pytest.mark.parametrize("call,message", [
    (lambda: imdb.load_data(num_words=-1), r"num_words must be an integer >= 0 or None\. Received: num_words=-1"),
    (lambda: imdb.load_data(maxlen=2.5), r"Received: maxlen=2\.5"),
    (lambda: reuters.load_data(test_split=1.5), r"Received: test_split=1\.5"),
    (lambda: boston_housing.load_data(test_split=1), r"Received: test_split=1"),
    (lambda: imdb.load_data(path="../imdb.npz"), r"Received: path='\.\./imdb\.npz'"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_maxlen_that_keeps_nothing(recorded):
    _, data = recorded
    place("imdb.npz", data["file_imdb"].tobytes())
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="Received: maxlen=1"):
        imdb.load_data(maxlen=1)
