"""More real Keras programs (keras-io examples and guides) run against chainrule.

Each script under tests/programs_more/ is a keras-io example or guide with its imports renamed
to chainrule, its data replaced by small files or arrays the script writes (same shapes,
dtypes and file formats), and its sizes and epochs cut; each script's docstring lists its
changes. These tests run each one in an empty working directory (with an empty download cache)
and check what the original shows: finite losses that fall where the program learns, the
parameter counts of the example's summary, the shapes of what it predicts, and that ``fit``
trained on the captured step where the model allows it.
"""

import importlib.util
import math
import runpy
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

PROGRAMS = Path(__file__).resolve().parent / "programs_more"

needs_pandas = pytest.mark.skipif(importlib.util.find_spec("pandas") is None,
                                  reason="the example reads its CSV files with pandas")
needs_pillow = pytest.mark.skipif(importlib.util.find_spec("PIL") is None,
                                  reason="it reads JPEG and PNG files (the image extra: Pillow)")


def run_program(name, tmp_path, monkeypatch):
    """Run one program in an empty working directory; return its module globals."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))  # nothing is downloaded
    cr.utils.set_random_seed(0)
    np.random.seed(0)
    return runpy.run_path(str(PROGRAMS / f"{name}.py"), run_name="__main__")


def finite(losses, what):
    assert losses and all(math.isfinite(v) for v in losses), f"{what}: {losses}"
    return losses


def decreasing(losses, what):
    finite(losses, what)
    assert len(losses) >= 2 and losses[-1] < losses[0], f"{what}: did not fall: {losses}"


def captured(model, mode="train"):
    """Whether every step ``mode`` ran of ``model`` replayed a captured program."""
    entries = [e for k, e in model._steps.entries.items() if k[0] == mode]
    return bool(entries) and all(e.program is not None for e in entries)


def test_every_program_has_a_test():
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert {p.stem for p in PROGRAMS.glob("*.py")} <= tested


def test_conv_denoising_autoencoder(tmp_path, monkeypatch):
    g = run_program("conv_denoising_autoencoder", tmp_path, monkeypatch)
    decreasing(g["history"].history["loss"], "autoencoder")
    decreasing(g["denoise_history"].history["loss"], "denoising")
    assert g["autoencoder"].count_params() == 28353  # the example's summary
    assert g["predictions"].shape == g["denoised"].shape == (32, 28, 28, 1)
    assert 0.0 <= g["denoised"].min() and g["denoised"].max() <= 1.0  # sigmoid
    assert captured(g["autoencoder"])


def test_gan_custom_train_step(tmp_path, monkeypatch):
    g = run_program("gan_custom_train_step", tmp_path, monkeypatch)
    logs = g["history"].history
    assert sorted(logs) == ["d_loss", "g_loss"]
    finite(logs["d_loss"], "d_loss")
    finite(logs["g_loss"], "g_loss")
    assert len(logs["d_loss"]) == 2
    # each optimizer moved its own network's weights only
    gan = g["gan"]
    assert gan.d_optimizer.iterations.numpy() == gan.g_optimizer.iterations.numpy() == 2 * 4
    images = np.asarray(gan.generator(np.zeros((2, g["latent_dim"]), "float32")))
    assert images.shape == (2, 28, 28, 1)


def test_lstm_character_level_text_generation(tmp_path, monkeypatch):
    g = run_program("lstm_character_level_text_generation", tmp_path, monkeypatch)
    decreasing(g["LOSSES"], "char-level LSTM")
    assert g["x"].dtype == bool and g["x"].shape[1:] == (20, len(g["chars"]))
    assert sorted(g["GENERATED"]) == [0.2, 0.5, 1.0, 1.2]
    assert all(len(t) == 10 and set(t) <= set(g["chars"]) for t in g["GENERATED"].values())
    assert captured(g["model"])


def test_lstm_seq2seq(tmp_path, monkeypatch):
    g = run_program("lstm_seq2seq", tmp_path, monkeypatch)
    decreasing(g["history"].history["loss"], "seq2seq")
    assert (tmp_path / "s2s_model.keras").is_file()
    # the inference models are built from the loaded model's layers: their weights are the
    # trained ones, and one decoder step from the encoder's states gives the training
    # model's first time step
    model, enc, dec = g["model"], g["encoder_model"], g["decoder_model"]
    assert len(enc.get_weights()) == 3 and len(dec.get_weights()) == 5
    x_enc = g["encoder_input_data"][:2]
    x_dec = g["decoder_input_data"][:2]
    h, c = enc.predict(x_enc, verbose=0)
    step, h1, c1 = dec.predict([x_dec[:, :1], h, c], verbose=0)
    full = model.predict([x_enc, x_dec], verbose=0)
    np.testing.assert_allclose(step[:, 0], full[:, 0], rtol=1e-5, atol=1e-6)
    assert h1.shape == c1.shape == (2, g["latent_dim"])
    assert len(g["DECODED"]) == 3
    assert all(0 < len(s) <= g["max_decoder_seq_length"] + 1 for s in g["DECODED"])


@needs_pandas
def test_collaborative_filtering_movielens(tmp_path, monkeypatch):
    g = run_program("collaborative_filtering_movielens", tmp_path, monkeypatch)
    finite(g["history"].history["loss"], "recommender")
    finite(g["history"].history["val_loss"], "recommender (validation)")
    model = g["model"]
    # four embeddings: users and movies, with their biases (Keras's weight order)
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(40, 8), (40, 1), (60, 8), (60, 1)]
    assert g["ratings"].shape == (len(g["movies_not_watched"]),)
    assert np.all((g["ratings"] > 0) & (g["ratings"] < 1))
    assert len(g["recommended_movie_ids"]) == 10
    assert captured(model)


def test_siamese_contrastive(tmp_path, monkeypatch):
    g = run_program("siamese_contrastive", tmp_path, monkeypatch)
    finite(g["history"].history["loss"], "siamese")
    assert g["embedding_network"].count_params() == 5318  # the example's summary
    assert g["siamese"].count_params() == 5324
    loss, accuracy = g["results"]
    assert math.isfinite(loss) and 0.0 <= accuracy <= 1.0
    assert g["predictions"].shape == (80, 1)
    assert captured(g["siamese"])


@needs_pillow
@pytest.mark.filterwarnings("ignore:OxfordPets should call super")  # Keras 3 warns too
def test_oxford_pets_image_segmentation(tmp_path, monkeypatch):
    g = run_program("oxford_pets_image_segmentation", tmp_path, monkeypatch)
    decreasing(g["history"].history["loss"], "U-Net")
    finite(g["history"].history["val_loss"], "U-Net (validation)")
    assert g["model"].count_params() == 2058979  # the example's summary, at any image size
    assert g["val_preds"].shape == (8, 32, 32, 3)
    assert (tmp_path / "oxford_segmentation.keras").is_file()
    assert g["mask_image"].size == (32, 32)
    assert captured(g["model"])


@needs_pandas
def test_timeseries_anomaly_detection(tmp_path, monkeypatch):
    g = run_program("timeseries_anomaly_detection", tmp_path, monkeypatch)
    decreasing(g["history"].history["loss"], "Conv1D autoencoder")
    assert g["model"].count_params() == 9505  # the example's summary
    assert g["x_train_pred"].shape == g["x_train"].shape == (289, 48, 1)
    # the windows that hold the jump up (readings 202 to 215) are the anomalies found
    found = np.flatnonzero(g["anomalies"])
    assert len(found) > 0 and np.isin(np.arange(168, 202), found).mean() > 0.5
    assert captured(g["model"])


def test_custom_fit_guide(tmp_path, monkeypatch):
    g = run_program("custom_fit_guide", tmp_path, monkeypatch)
    first = g["first_history"].history
    assert sorted(first) == ["loss", "mae"]  # compile_metrics' results, flattened as in Keras
    decreasing(first["loss"], "train_step with compute_loss")
    weighted = g["weighted_history"].history
    assert sorted(weighted) == ["loss", "mae"]
    decreasing(weighted["loss"], "train_step with sample_weight")
    loss, mae = g["results"]
    assert math.isfinite(loss) and math.isfinite(mae)


def test_pydataset_training(tmp_path, monkeypatch):
    g = run_program("pydataset_training", tmp_path, monkeypatch)
    logs = g["history"].history
    assert sorted(logs) == ["loss", "sparse_categorical_accuracy", "val_loss",
                            "val_sparse_categorical_accuracy"]
    decreasing(g["threaded_history"].history["loss"], "PyDataset with 4 workers")
    loss, accuracy = g["evaluation"]
    assert logs["val_loss"][0] == pytest.approx(loss)  # evaluate() over the same batches
    for name in ("class_weight_history", "sample_weight_history", "dataset_weight_history"):
        finite(g[name].history["loss"], name)


def test_multi_input_multi_output(tmp_path, monkeypatch):
    g = run_program("multi_input_multi_output", tmp_path, monkeypatch)
    weighted = {k: v[0] for k, v in g["weighted_history"].history.items()}
    # Keras 3's logs: each output's unweighted loss, then the per-output metrics
    assert sorted(weighted) == sorted([
        "loss", "score_output_loss", "class_output_loss",
        "score_output_mean_absolute_percentage_error", "score_output_mean_absolute_error",
        "class_output_categorical_accuracy"])
    # (an epoch's mean of the weighted per-batch totals: the weights 2 and 1 show)
    assert weighted["loss"] == pytest.approx(
        2.0 * weighted["score_output_loss"] + weighted["class_output_loss"], rel=1e-5)
    # an output without a loss has no loss of its own in the logs, as in Keras 3
    assert sorted(g["none_loss_history"].history) == ["loss"]
    for name in ("list_history", "dict_history", "dataset_history"):
        logs = g[name].history
        assert sorted(logs) == ["class_output_loss", "loss", "score_output_loss"], name
        finite(logs["loss"], name)


def test_knowledge_distillation(tmp_path, monkeypatch):
    g = run_program("knowledge_distillation", tmp_path, monkeypatch)
    decreasing(g["teacher_history"].history["loss"], "teacher")
    logs = g["history"].history
    assert sorted(logs) == ["loss", "sparse_categorical_accuracy"]
    decreasing(logs["loss"], "distiller (its compute_loss runs the teacher on x)")
    decreasing(g["scratch_history"].history["loss"], "student from scratch")
    loss, accuracy = g["results"]
    assert math.isfinite(loss) and 0.0 <= accuracy <= 1.0
    distiller = g["distiller"]
    assert captured(distiller) and captured(distiller, "test")
    # clone_model made a student of the same layout with weights of its own
    student, scratch = g["student"], g["student_scratch"]
    assert [w.shape for w in student.get_weights()] == [w.shape for w in scratch.get_weights()]
    assert not np.array_equal(student.get_weights()[0], scratch.get_weights()[0])


def test_antirectifier(tmp_path, monkeypatch):
    g = run_program("antirectifier", tmp_path, monkeypatch)
    decreasing(g["history"].history["loss"], "antirectifier MLP")
    loss, accuracy = g["results"]
    assert math.isfinite(loss) and 0.0 <= accuracy <= 1.0
    model = g["model"]
    # Dense 784->256, Antirectifier (512, 256), Dense 256->256, Antirectifier, Dense 256->10
    assert model.count_params() == 200960 + 131072 + 65792 + 131072 + 2570
    assert captured(model)
    layer = model.layers[1]
    config = layer.get_config()
    assert config["initializer"]["class_name"] == "HeNormal"
    clone = type(layer).from_config(config)
    out = clone(np.ones((2, 4), "float32"))
    assert out.shape == (2, 4) and clone.kernel.shape == (8, 4)


def test_subclassing_conv_layers(tmp_path, monkeypatch):
    g = run_program("subclassing_conv_layers", tmp_path, monkeypatch)
    decreasing(g["history"].history["loss"], "standardized convolutions")
    model = g["model"]
    assert model.count_params() == 34826  # as the plain Conv2D model of the example
    assert captured(model)
    # the override computes with the standardized kernel (then the bias and the relu)
    layer = model.layers[2]
    k = np.asarray(layer.kernel.numpy(), "float64")
    standardized = (k - k.mean(axis=(0, 1, 2))) / np.sqrt(k.var(axis=(0, 1, 2)) + 1e-10)
    assert np.allclose(standardized.std(axis=(0, 1, 2)), 1.0, atol=1e-4)
    x = np.random.default_rng(0).random((2, 5, 5, 32)).astype("float32")
    patches = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
    expected = np.einsum("bhwcij,ijcf->bhwf", patches, standardized) + layer.bias.numpy()
    np.testing.assert_allclose(np.asarray(layer(x)), np.maximum(expected, 0), rtol=1e-4,
                               atol=1e-4)


def test_timeseries_classification_from_scratch(tmp_path, monkeypatch):
    g = run_program("timeseries_classification_from_scratch", tmp_path, monkeypatch)
    logs = g["history"].history
    decreasing(logs["loss"], "FCN")
    assert sorted(logs) == ["learning_rate", "loss", "sparse_categorical_accuracy", "val_loss",
                            "val_sparse_categorical_accuracy"]
    assert 0.0 <= g["test_acc"] <= 1.0 and math.isfinite(g["test_loss"])
    # the checkpoint holds the epoch with the lowest val_loss: evaluated again on the
    # validation split (the last 20% of x_train), the loaded model gives that loss
    model = g["model"]
    assert model.count_params() == (64 + 784 + 784) + 3 * 4 * 16 + 34
    x_val, y_val = g["x_train"][-32:], g["y_train"][-32:]
    val_loss, _ = model.evaluate(x_val, y_val, verbose=0)
    assert val_loss == pytest.approx(min(logs["val_loss"]), rel=1e-5)
