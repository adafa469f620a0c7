"""Fuzzing the model loader: every mutated archive loads or raises a chainrule ArchiveError.

Thousands of archives derived from a valid one (byte flips, truncations and
insertions, replaced or added members, JSON mutations of the config, mutations
inside the weights' ``.npz``) must each either load or raise
:class:`chainrule.saving.ArchiveError` (a ``ValueError``), never another
exception, never hang (a deadline per example) and never allocate without
bound (the resident memory is checked at the end).

The CI run takes about 20 s. ``CHAINRULE_FUZZ_LONG=1`` runs a variant with
twenty times more examples.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import resource
import sys
import tempfile
import warnings
import zipfile
import zlib

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.saving import ArchiveError, load_model  # noqa: E402

LONG = os.environ.get("CHAINRULE_FUZZ_LONG") == "1"
SCALE = 20 if LONG else 1
SETTINGS = {
    "deadline": 2000,  # ms per example: a hang or a huge allocation fails the test
    "derandomize": not LONG,  # CI runs the same examples every time
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                              HealthCheck.function_scoped_fixture],
    "database": None,
}


def _base_archive() -> bytes:
    cr.utils.set_random_seed(0)
    model = cr.Sequential([cr.layers.Dense(5, input_dim=3, activation="relu"),
                           cr.layers.Dropout(0.1), cr.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=cr.optimizers.Adam(0.01),
                  loss=cr.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    model.fit(x, np.arange(8) % 2, epochs=1, batch_size=4, verbose=0)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "base.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


BASE = _base_archive()
with zipfile.ZipFile(io.BytesIO(BASE)) as _zf:
    MEMBERS = {name: _zf.read(name) for name in _zf.namelist()}
CONFIG = json.loads(MEMBERS["config.json"])
with zipfile.ZipFile(io.BytesIO(MEMBERS["model.weights.npz"])) as _zf:
    WEIGHT_MEMBERS = {name: _zf.read(name) for name in _zf.namelist()}


def _zip(members: dict, compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(buf, "w", compression) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
    return buf.getvalue()


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=True)
    return buf.getvalue()


@pytest.fixture(scope="module")
def target():
    with tempfile.TemporaryDirectory() as d:
        yield os.path.join(d, "fuzzed.keras")


def _check(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = load_model(path)
        except ArchiveError:
            return
    assert isinstance(model, cr.Model)


# --------------------------------------------------------------------------- strategies

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["os.system", "Dense", "Sequential", "function", "eval", "__import__",
                     "relu", "adam", "../x", "Model", "InputLayer", "mse", "glorot_uniform"]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = list(_paths(CONFIG))[1:]


def _mutate_json(config, path, action, value, key):
    parent = config
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif action == "insert" and isinstance(parent[last], dict):
        parent[last][key] = value
    elif action == "insert" and isinstance(parent[last], list):
        parent[last].append(value)
    elif action == "number" and isinstance(parent[last], (int, float)) and not isinstance(
            parent[last], bool):
        parent[last] = value if isinstance(value, (int, float)) else -parent[last]
    else:
        parent[last] = value


member_payload = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(list(MEMBERS.values()) + list(WEIGHT_MEMBERS.values())),
    st.just(pickle.dumps({"a": 1})),
    st.just(_npy(np.array([object()], dtype=object))),
    st.just(_npy(np.zeros(3, dtype="<U4"))),
    st.just(_zip({"x.npy": _npy(np.zeros(2)), "../y.npy": b"1"})),
    st.just(_zip({"dense/kernel.npy": _npy(np.zeros((3, 5), "float64"))})),
    st.just(zlib.compress(b"\0" * 100_000)),
)
member_name = st.sampled_from(["config.json", "model.weights.npz", "optimizer.npz",
                               "../evil", "/abs", "a\\b", "extra.bin", "model.weights.h5", ""])


# --------------------------------------------------------------------------- the fuzz tests


@settings(max_examples=400 * SCALE, **SETTINGS)
@given(flips=st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 255)),
                      min_size=1, max_size=6))
def test_byte_flips(target, flips):
    data = bytearray(BASE)
    for pos, byte in flips:
        data[pos] = byte
    _check(target, bytes(data))


@settings(max_examples=200 * SCALE, **SETTINGS)
@given(cut=st.integers(0, len(BASE)), insert=st.binary(max_size=64),
       mode=st.sampled_from(["truncate", "insert", "delete"]))
def test_truncations_and_insertions(target, cut, insert, mode):
    if mode == "truncate":
        data = BASE[:cut]
    elif mode == "insert":
        data = BASE[:cut] + insert + BASE[cut:]
    else:
        data = BASE[:cut] + BASE[cut + max(len(insert), 1):]
    _check(target, data)


@settings(max_examples=300 * SCALE, **SETTINGS)
@given(name=member_name, payload=member_payload, drop=st.booleans(),
       deflate=st.booleans())
def test_member_replacements(target, name, payload, drop, deflate):
    members = dict(MEMBERS)
    if drop and name in members:
        del members[name]
    else:
        members[name] = payload
    members = {k: v for k, v in members.items() if k}
    _check(target, _zip(members, zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED))


@settings(max_examples=500 * SCALE, **SETTINGS)
@given(mutations=st.lists(st.tuples(st.sampled_from(ALL_PATHS),
                                    st.sampled_from(["replace", "delete", "insert", "number"]),
                                    json_value, st.text(max_size=8)),
                          min_size=1, max_size=3))
def test_config_mutations(target, mutations):
    config = json.loads(json.dumps(CONFIG))
    for path, action, value, key in mutations:
        try:
            _mutate_json(config, path, action, value, key)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    try:
        text = json.dumps(config).encode()
    except (ValueError, TypeError):
        return
    _check(target, _zip({**MEMBERS, "config.json": text}))


@settings(max_examples=300 * SCALE, **SETTINGS)
@given(which=st.sampled_from(sorted(WEIGHT_MEMBERS)),
       flips=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=4),
       cut=st.one_of(st.none(), st.integers(0, 300)),
       header=st.one_of(st.none(), st.text(max_size=80)))
def test_weight_array_mutations(target, which, flips, cut, header):
    raw = bytearray(WEIGHT_MEMBERS[which])
    for pos, byte in flips:
        if pos < len(raw):
            raw[pos] = byte
    if cut is not None:
        raw = raw[:cut]
    if header is not None and len(raw) > 10:
        text = header.encode("latin1", "replace")
        raw = raw[:8] + len(text).to_bytes(2, "little") + text + raw[10 + raw[8]:]
    inner = {**WEIGHT_MEMBERS, which: bytes(raw)}
    _check(target, _zip({**MEMBERS, "model.weights.npz": _zip(inner)}))


def _peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


_PEAK_BEFORE: list = []  # the process's peak before this module's first test


@pytest.fixture(autouse=True, scope="module")
def _peak_before_the_fuzzing():
    _PEAK_BEFORE.append(_peak_bytes())
    yield


def test_memory_stayed_bounded():
    """Runs after the fuzz tests in this module: no example made the process balloon.

    Compared with the process's peak before the module's first test (the tests before it,
    in the same process, set their own peaks), not with an absolute bound.
    """
    grown = _peak_bytes() - _PEAK_BEFORE[0]
    assert grown < 2**30, f"the fuzzing raised the peak resident memory by {grown / 2**30:.1f} GiB"


@pytest.mark.skipif(not LONG, reason="long fuzzing: set CHAINRULE_FUZZ_LONG=1")
def test_long_variant_is_enabled():
    assert SCALE == 20
