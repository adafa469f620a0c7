"""saving.KerasFileEditor: inspect and edit the weights of chainrule's and Keras's files."""

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.saving import KerasFileEditor

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras_files")


def _model(name="m"):
    cr.utils.set_random_seed(0)
    return cr.Sequential([cr.Input((3,)), cr.layers.Dense(4, name="h"),
                          cr.layers.Dense(2, name="o")], name=name)


def test_reads_a_chainrule_archive_and_weights_file(tmp_path, capsys):
    model = _model()
    model.compile("adam", "mse")
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.npz")
    for path in ("m.keras", "m.weights.npz"):
        editor = KerasFileEditor(tmp_path / path)
        assert editor.format == "chainrule" and list(editor.weights_dict) == ["h", "o"]
        for w in model.weights:
            layer, name = w.path.split("/")
            np.testing.assert_array_equal(editor.weights_dict[layer][name], w.numpy())
    assert KerasFileEditor(tmp_path / "m.keras").config["class_name"] == "Sequential"
    assert KerasFileEditor(tmp_path / "m.weights.npz").config is None
    editor.summary()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Weights structure" and out[1] == "  > h"
    assert out[2] == "  │   ├─ kernel: shape=(3, 4), dtype=float32"
    assert out[4] == "  └─ o" and out[-1] == "      └─ bias: shape=(2,), dtype=float32"


def test_compare_with_a_model(tmp_path, capsys):
    model = _model()
    model.save_weights(tmp_path / "m.weights.npz")
    editor = KerasFileEditor(tmp_path / "m.weights.npz")
    assert editor.compare(model) == {"status": "success", "error_count": 0, "match_count": 4}
    editor.delete_weight("o", "bias")
    editor.add_weights("h", {"bias": np.zeros(5, "float32")})
    assert editor.compare(model) == {"status": "error", "error_count": 2, "match_count": 2}
    printed = capsys.readouterr().out
    assert "'o/bias'" in printed and "'h/bias' has shape (5,)" in printed


def test_edits_and_save_load_into_a_renamed_model(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    editor = KerasFileEditor(tmp_path / "m.keras")
    editor.rename_object("h", "hidden")
    editor.rename_object("o", "out")
    editor.save(tmp_path / "edited.weights.npz")
    cr.utils.set_random_seed(1)
    other = cr.Sequential([cr.Input((3,)), cr.layers.Dense(4, name="hidden"),
                           cr.layers.Dense(2, name="out")])
    other.load_weights(tmp_path / "edited.weights.npz")
    x = np.random.default_rng(0).standard_normal((3, 3)).astype("float32")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    assert list(cr.saving.read_weights(tmp_path / "edited.weights.npz")) == [
        "hidden/kernel", "hidden/bias", "out/kernel", "out/bias"]


def test_add_and_delete_objects_and_weights(tmp_path):
    _model().save_weights(tmp_path / "m.weights.npz")
    editor = KerasFileEditor(tmp_path / "m.weights.npz")
    editor.add_object("extra", {"scale": np.ones(3)})
    editor.add_object("extra/inner", {"w": np.zeros((2, 2))})
    editor.delete_object("o")
    editor.delete_weight("h", "bias")
    editor.resave_weights(tmp_path / "e.weights.npz")
    saved = cr.saving.read_weights(tmp_path / "e.weights.npz")
    assert list(saved) == ["h/kernel", "extra/scale", "extra/inner/w"]
    np.testing.assert_array_equal(saved["extra/scale"], np.ones(3))
    editor.delete_object("extra/inner")  # by path
    assert "inner" not in editor.weights_dict["extra"]


def test_ambiguous_and_missing_names(tmp_path):
    _model().save_weights(tmp_path / "m.weights.npz")
    editor = KerasFileEditor(tmp_path / "m.weights.npz")
    with pytest.raises(ValueError, match=r"Name 'kernel' occurs 2 times in the file; pass its "
                                         r"full path\. Received: 'kernel'$"):
        editor.delete_object("kernel")
    editor.delete_object("o/kernel")  # a path is unambiguous
    assert list(editor.weights_dict["o"]) == ["bias"]
    with pytest.raises(ValueError, match=r"Name 'nope' does not appear .*Received: 'nope'$"):
        editor.rename_object("nope", "x")
    with pytest.raises(ValueError, match=r"Path 'h/nope' not found in the file\. Received: "):
        editor.delete_object("h/nope")
    with pytest.raises(ValueError, match=r"leaf name, not a full path name\. Received: "
                                         r"new_name='a/b'$"):
        editor.rename_object("h", "a/b")
    with pytest.raises(ValueError, match=r"'o' already exists beside it\. Received: "):
        editor.rename_object("h", "o")
    with pytest.raises(ValueError, match=r"Weight 'gamma' not found in object 'h'; it holds "
                                         r"\['kernel', 'bias'\]\. Received: "):
        editor.delete_weight("h", "gamma")
    with pytest.raises(ValueError, match=r"should be a dict .*Received: type\(weights\)=list$"):
        editor.add_weights("h", [np.ones(2)])
    with pytest.raises(ValueError, match=r"Path 'no/where' not found in the file\. Received: "
                                         r"object_path='no/where/x'$"):
        editor.add_object("no/where/x", {})
    with pytest.raises(ValueError, match=r"Weight 'w' must be numbers\. Received: dtype=<U1$"):
        editor.add_weights("h", {"w": np.array(["a"])})


def test_bad_paths(tmp_path):
    with pytest.raises(ValueError, match=r"expected a `\.keras`, `\.weights\.npz` or "
                                         r"`\.weights\.h5` extension\. Received: filepath="):
        KerasFileEditor(tmp_path / "m.h5")
    with pytest.raises(FileNotFoundError):
        KerasFileEditor(tmp_path / "missing.keras")
    _model().save_weights(tmp_path / "m.weights.npz")
    editor = KerasFileEditor(tmp_path / "m.weights.npz")
    with pytest.raises(ValueError, match=r"expected a `\.weights\.npz` or `\.weights\.h5` "
                                         r"extension\. Received: filepath="):
        editor.save(tmp_path / "m.keras")
    (tmp_path / "bad.keras").write_bytes(b"not a zip at all")
    with pytest.raises(cr.saving.ArchiveError):
        KerasFileEditor(tmp_path / "bad.keras")


def test_keras_archive_round_trip_through_h5(tmp_path):
    pytest.importorskip("h5py")
    model = _model(name="seq")
    model.save(tmp_path / "k.keras", format="keras")
    editor = KerasFileEditor(tmp_path / "k.keras")
    assert editor.format == "keras" and editor.metadata is not None
    flat = sorted(editor.weights_dict["layers"])
    assert flat == ["dense", "dense_1"]
    np.testing.assert_array_equal(editor.weights_dict["layers"]["dense"]["vars"]["0"],
                                  model.weights[0].numpy())
    assert editor.compare(model)["status"] == "success"
    editor.save(tmp_path / "k.weights.h5")
    again = KerasFileEditor(tmp_path / "k.weights.h5")
    assert again.format == "keras"
    fresh = _model(name="seq")
    for w in fresh.weights:
        w.assign(np.zeros(w.shape, w.dtype))
    fresh.load_weights(tmp_path / "k.weights.h5")
    for a, b in zip(fresh.weights, model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.skipif(not os.path.isdir(FIXTURES), reason="no Keras files recorded")
def test_reads_a_keras_written_archive():
    pytest.importorskip("h5py")
    names = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".keras"))
    assert names
    editor = KerasFileEditor(os.path.join(FIXTURES, names[0]))
    assert editor.format == "keras" and editor.metadata["keras_version"].startswith("3.")
    assert editor.weights_dict  # Keras's nested layout, e.g. {"layers": {...}}
