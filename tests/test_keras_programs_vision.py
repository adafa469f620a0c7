"""Real Keras vision programs and guides run against chainrule.

Each script under tests/programs_vision/ is a keras-io example/guide or a TensorFlow tutorial
with its imports renamed to chainrule, its data replaced by small synthetic arrays of the same
shapes and dtypes, and its sizes and epochs cut. A script asserts what the original shows
(shapes, equalities) and leaves its training losses in ``LOSSES``; these tests run each one
and check that it completed with finite losses that decrease where the program trains.
"""

import importlib.util
import math
import runpy
from pathlib import Path

import numpy as np
import pytest

import chainrule

PROGRAMS = Path(__file__).resolve().parent / "programs_vision"


def run_program(name, tmp_path, monkeypatch):
    """Run one program in an empty working directory; return its module globals."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))  # nothing is downloaded
    return runpy.run_path(str(PROGRAMS / f"{name}.py"), run_name="__main__")


def assert_decreasing(losses, what):
    assert len(losses) >= 2, f"{what}: fewer than two epochs: {losses}"
    assert all(math.isfinite(v) for v in losses), f"{what}: a loss is not finite: {losses}"
    assert losses[-1] < losses[0], f"{what}: the loss did not decrease: {losses}"


needs_conv = pytest.mark.skipif(
    not hasattr(chainrule.layers, "Conv2D"), reason="convolution and pooling layers not present")


def test_every_program_has_a_test():
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert {p.stem for p in PROGRAMS.glob("*.py")} <= tested


def test_fashion_mnist_basic(tmp_path, monkeypatch):
    g = run_program("fashion_mnist_basic", tmp_path, monkeypatch)
    assert_decreasing(g["LOSSES"], "fashion_mnist_basic")
    assert g["test_acc"] > 0.5


def test_overfit_underfit(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard", reason="it logs with callbacks.TensorBoard (the "
                        "tensorboard extra)")
    g = run_program("overfit_underfit", tmp_path, monkeypatch)
    for name, losses in g["LOSSES"].items():
        assert_decreasing(losses, name)
    assert float(g["regularization_loss"]) > 0


def test_writing_callbacks(tmp_path, monkeypatch):
    g = run_program("writing_callbacks", tmp_path, monkeypatch)
    keys = {}
    for hook, k in g["CALLS"]:
        keys.setdefault(hook, set()).add(tuple(k))
    metrics = ("loss", "mean_absolute_error")
    # The log keys the guide prints with Keras 3.
    assert keys == {
        "on_train_begin": {()}, "on_epoch_begin": {()}, "on_train_batch_begin": {()},
        "on_train_batch_end": {metrics}, "on_test_begin": {()}, "on_test_batch_begin": {()},
        "on_test_batch_end": {metrics}, "on_test_end": {metrics},
        "on_epoch_end": {metrics + ("val_loss", "val_mean_absolute_error")},
        "on_train_end": {metrics + ("val_loss", "val_mean_absolute_error")},
        "on_predict_begin": {()}, "on_predict_batch_begin": {()},
        "on_predict_batch_end": {("outputs",)}, "on_predict_end": {()}}
    # EarlyStoppingAtMinLoss set model.stop_training: fewer than the 30 epochs ran.
    early = g["early"]
    assert early.stopped_epoch > 0
    assert len(g["early_history"].history["loss"]) == early.stopped_epoch + 1 < 30
    # CustomLearningRateScheduler's rates reached the optimizer, epoch by epoch.
    # (read through keras.ops.convert_to_numpy: the float32 learning_rate Variable, as in Keras)
    assert g["LRS"] == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.01] * 3 + [0.005] * 3
                                     + [0.001] * 3, rel=1e-7)
    assert float(g["model"].optimizer.learning_rate) == pytest.approx(0.001)
    assert_decreasing(g["LOSSES"], "writing_callbacks")


def test_custom_components(tmp_path, monkeypatch):
    g = run_program("custom_components", tmp_path, monkeypatch)
    assert g["SUM"].tolist() == [4.0, 4.0]  # ComputeSum's non-trainable weight summed twice
    assert_decreasing(g["LOSSES"], "custom layer/metric/callback model")
    assert_decreasing(g["MSE_LOSSES"], "custom loss model")
    assert [sorted(logs) for logs in g["EPOCH_ENDS"]] == [
        ["categorical_true_positives", "loss"]] * 3
    # The custom metric counts matches of the (batch, 1) argmax against the (batch,) labels,
    # broadcast to (batch, batch) as the guide's code does under Keras.
    assert all(0 < logs["categorical_true_positives"] <= 640 * 64
               for logs in g["EPOCH_ENDS"])
    assert math.isfinite(g["results"]["loss"])


def test_serialization_and_saving(tmp_path, monkeypatch):
    g = run_program("serialization_and_saving", tmp_path, monkeypatch)
    assert_decreasing(g["LOSSES"], "serialization_and_saving")
    assert (tmp_path / "my_model.keras").is_file()
    assert (tmp_path / "custom_model.keras").is_file()


@pytest.mark.xfail(strict=True, raises=ValueError, reason=(
    "by design: model.save refuses a Lambda wrapping a Python lambda (chainrule saves a "
    "function by its registered name and never stores or runs code from a file; Keras stores "
    "the bytecode and loads it with safe_mode=False). See docs/differences.md"))
def test_serialization_lambda(tmp_path, monkeypatch):
    g = run_program("serialization_lambda", tmp_path, monkeypatch)
    assert g["REFUSED"]


def test_serialization_weights_h5(tmp_path, monkeypatch):
    pytest.importorskip("h5py", reason="Keras's .weights.h5 files need the h5 extra (h5py)")
    run_program("serialization_weights_h5", tmp_path, monkeypatch)
    assert (tmp_path / "my_model.weights.h5").is_file()


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "the guide's last line asserts that a Sequential saved unbuilt (its Dense(1) never saw "
    "an input) loads built; Keras 3.15 loads it unbuilt too (restored_model.built is False "
    "there, as here). Everything before it runs: the (8, 10) targets for the 1-unit output "
    "broadcast in MSE as in Keras, and the custom variable and build config round-trip "
    "(Keras 3.15 itself fails earlier, at loading the first model: its Dense saves only "
    "kernel and bias while the guide's load_own_variables assigns all of self.weights)"))
def test_serialization_hooks(tmp_path, monkeypatch):
    run_program("serialization_hooks", tmp_path, monkeypatch)


def test_serialization_hooks_up_to_its_last_line(tmp_path, monkeypatch):
    """The guide without its last assertion: it runs, and the unbuilt model loads unbuilt."""
    source = (PROGRAMS / "serialization_hooks.py").read_text(encoding="utf-8").rstrip()
    body, last = source.rsplit("\n", 1)
    assert last == "np.testing.assert_equal(restored_model.built, True)"
    monkeypatch.chdir(tmp_path)
    g = {"__name__": "__main__"}
    exec(compile(body, "serialization_hooks.py", "exec"), g)  # noqa: S102 - the test's own file
    assert g["restored_model"].layers[0].layer_init == "random_normal"
    assert g["restored_model"].built is False  # as Keras 3.15 loads it


@needs_conv
def test_mnist_convnet(tmp_path, monkeypatch):
    g = run_program("mnist_convnet", tmp_path, monkeypatch)
    assert_decreasing(g["LOSSES"], "mnist_convnet")
    assert all(math.isfinite(v) for v in g["score"])


@needs_conv
def test_cifar10_cnn(tmp_path, monkeypatch):
    g = run_program("cifar10_cnn", tmp_path, monkeypatch)
    assert_decreasing(g["LOSSES"], "cifar10_cnn")


@needs_conv
def test_image_classification_from_scratch(tmp_path, monkeypatch):
    pytest.importorskip("PIL", reason="it reads JPEG files (the image extra: Pillow)")
    g = run_program("image_classification_from_scratch", tmp_path, monkeypatch)
    assert_decreasing(g["LOSSES"], "image_classification_from_scratch")
    assert 0.0 <= g["score"] <= 1.0
    assert sorted(p.name for p in tmp_path.glob("save_at_*.keras")) == [
        f"save_at_{e}.keras" for e in range(1, 5)]


@needs_conv
def test_sequential_model_guide(tmp_path, monkeypatch):
    g = run_program("sequential_model_guide", tmp_path, monkeypatch)
    assert_decreasing(g["LOSSES"], "sequential_model_guide (last layer trained)")


@needs_conv
def test_transfer_learning(tmp_path, monkeypatch):
    g = run_program("transfer_learning", tmp_path, monkeypatch)
    assert_decreasing(g["LOSSES"], "transfer_learning (top only)")
    assert_decreasing(g["FINE_LOSSES"], "transfer_learning (fine-tuning)")
    # base_model(x, training=False): its BatchNormalization stayed in inference mode while
    # fine-tuning moved its kernels
    assert g["BN_MOMENTS_UNCHANGED"] and g["KERNELS_MOVED"]


def test_image_classification_with_vision_transformer(tmp_path, monkeypatch):
    g = run_program("image_classification_with_vision_transformer", tmp_path, monkeypatch)
    assert_decreasing(g["LOSSES"], "image_classification_with_vision_transformer")
    model = g["vit_classifier"]
    # fit trained on the captured step (a replayed program per batch shape), not the tape
    train = [e for k, e in model._steps.entries.items() if k[0] == "train"]
    assert train and all(e.program is not None for e in train)
    loss, accuracy, top5 = g["RESULTS"]
    assert math.isfinite(loss) and 0.0 <= accuracy <= top5 <= 1.0
    # the sample image's 16 patches of 6x6x3, read back as the image they tile
    patches = np.stack(g["PATCH_IMAGES"]).reshape(4, 4, 6, 6, 3)
    tiled = patches.transpose(0, 2, 1, 3, 4).reshape(24, 24, 3)
    resized = np.asarray(g["resized_image"])[0]
    np.testing.assert_array_equal(tiled, resized.astype("uint8"))
    checkpoint = "checkpoint.weights.h5" if importlib.util.find_spec("h5py") else \
        "checkpoint.weights.npz"
    assert (tmp_path / checkpoint).is_file()


def test_conv_lstm(tmp_path, monkeypatch):
    g = run_program("conv_lstm", tmp_path, monkeypatch)
    assert_decreasing(g["LOSSES"], "conv_lstm")
    assert all(math.isfinite(v) for v in g["history"].history["val_loss"])
    assert g["x_train"].shape == g["y_train"].shape == (18, 5, 16, 16, 1)
    # the input's time axis is None: the model takes videos of any length
    assert g["model"].input.shape == (None, None, 16, 16, 1)
    assert g["new_frames"].shape == (3, 16, 16, 1)
    assert len(g["predicted_videos"]) == 2 and g["predicted_videos"][0].shape == (3, 16, 16, 1)
    assert all(0.0 <= v.min() and v.max() <= 1.0 for v in g["predicted_videos"])  # sigmoid
    # 3 ConvLSTM2D layers (5x5, 3x3, 1x1 kernels, 8 filters), 2 BatchNormalization, Conv3D
    assert g["model"].count_params() == (25 * 1 * 32 + 25 * 8 * 32 + 32) + 2 * 4 * 8 + (
        9 * 8 * 32 + 9 * 8 * 32 + 32) + (8 * 32 + 8 * 32 + 32) + (27 * 8 + 1)
