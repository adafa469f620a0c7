"""Keras 3 names added together: ``ops.image.sobel_edges``/``ssim``, ``MaxNumBoundingBoxes``,
``ContrastLimitedAdaptiveHistogramEqualization`` and ``chainrule.distillation``.

Keras's numbers come from tests/fixtures/keras_kextras.npz (tools/keras_fixtures_kextras.py);
the rest is checked against NumPy written here independently.
"""

import importlib.util
import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = np.load(os.path.join(HERE, "fixtures", "keras_kextras.npz"))
_SPEC = importlib.util.spec_from_file_location(
    "keras_fixtures_kextras", os.path.join(HERE, "..", "tools", "keras_fixtures_kextras.py"))
TOOL = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(TOOL)


# -- ops.image.sobel_edges and ops.image.ssim ------------------------------------------------


def test_fixture_records_versions():
    assert str(DATA["keras_version"]).startswith("3.")
    assert str(DATA["tensorflow_version"])


@pytest.mark.parametrize("name", sorted(TOOL.SOBEL))
def test_sobel_edges_matches_keras(name):
    _, fmt = TOOL.SOBEL[name]
    y = cr.ops.image.sobel_edges(DATA[f"{name}_x"], data_format=fmt)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), DATA[f"{name}_y"], rtol=1e-5, atol=1e-5)


def _sobel_loops(x):
    """Mirror padding and the two 3x3 kernels, pixel by pixel (channels last)."""
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], float)
    n, h, w, c = x.shape
    out = np.zeros((n, h, w, c, 2))

    def mirror(i, size):
        return -i if i < 0 else 2 * (size - 1) - i if i >= size else i

    for b in range(n):
        for i in range(h):
            for j in range(w):
                for di in range(3):
                    for dj in range(3):
                        v = x[b, mirror(i + di - 1, h), mirror(j + dj - 1, w)]
                        out[b, i, j, :, 0] += ky[di, dj] * v
                        out[b, i, j, :, 1] += ky.T[di, dj] * v
    return out


def test_sobel_edges_matches_loops_and_gradient():
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 2))
    np.testing.assert_allclose(cr.ops.image.sobel_edges(x).numpy(), _sobel_loops(x),
                               atol=1e-12)
    assert check_gradients(cr.ops.image.sobel_edges, x)
    first = lambda t: cr.ops.image.sobel_edges(t, data_format="channels_first")  # noqa: E731
    assert check_gradients(first, x.transpose(0, 3, 1, 2))
    # a 2-pixel axis mirrors onto itself (dy == 0 there): the relative check above cannot
    # judge zeros, so the gradient of this linear map is compared with its columns exactly
    small = x[:1, :2, :3]
    r = np.random.default_rng(4).standard_normal(small.shape + (2,))
    t = cr.Tensor(small, requires_grad=True)
    cr.ops.sum(cr.ops.image.sobel_edges(t) * r).backward()
    columns = np.zeros(small.shape)
    for i in np.ndindex(small.shape):
        e = np.zeros(small.shape)
        e[i] = 1.0
        columns[i] = (_sobel_loops(e) * r).sum()
    np.testing.assert_allclose(t.grad, columns, atol=1e-12)


@pytest.mark.parametrize("name", sorted(TOOL.SSIM))
def test_ssim_matches_keras(name):
    _, kwargs = TOOL.SSIM[name]
    y = cr.ops.image.ssim(DATA[f"{name}_a"], DATA[f"{name}_b"], **kwargs)
    assert y.shape == DATA[f"{name}_y"].shape and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), DATA[f"{name}_y"], rtol=2e-5, atol=2e-6)


def _ssim_numpy(a, b, size, sigma, max_val=1.0, k1=0.01, k2=0.03):
    """Wang et al.'s SSIM with explicit window sums (single channels-last image)."""
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-t ** 2 / (2 * sigma ** 2))
    w = np.outer(g, g) / g.sum() ** 2
    h, wd, c = a.shape
    vals = []
    for ch in range(c):
        for i in range(h - size + 1):
            for j in range(wd - size + 1):
                pa, pb = a[i:i + size, j:j + size, ch], b[i:i + size, j:j + size, ch]
                ma, mb = (w * pa).sum(), (w * pb).sum()
                va, vb = (w * pa * pa).sum() - ma ** 2, (w * pb * pb).sum() - mb ** 2
                cov = (w * pa * pb).sum() - ma * mb
                c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
                vals.append((2 * ma * mb + c1) * (2 * cov + c2)
                            / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2)))
    return np.mean(vals)


def test_ssim_matches_numpy_and_gradient():
    rng = np.random.default_rng(2)
    a, b = rng.random((7, 6, 2)), rng.random((7, 6, 2))
    got = cr.ops.image.ssim(a, b, filter_size=3, filter_sigma=0.9)
    assert got.dtype == np.float64 and got.shape == ()
    np.testing.assert_allclose(float(got), _ssim_numpy(a, b, 3, 0.9), rtol=1e-12)
    same = cr.ops.image.ssim(a[None], a[None], filter_size=3)
    np.testing.assert_allclose(same.numpy(), [1.0], rtol=1e-12)
    fn = lambda x, y: cr.ops.image.ssim(x, y, filter_size=3, filter_sigma=0.9)  # noqa: E731
    assert check_gradients(fn, a[None, :5, :4], b[None, :5, :4], tolerance=1e-5)


def test_ssim_casts_back_to_the_input_dtype_as_keras():
    a = np.full((1, 4, 4, 1), 200, "uint8")
    b = np.full((1, 4, 4, 1), 100, "uint8")
    y = cr.ops.image.ssim(a, b, max_val=255.0, filter_size=3)
    assert y.dtype == np.uint8  # Keras casts the result back to image1's dtype


def test_sobel_edges_in_a_functional_model_replays():
    inp = cr.layers.Input((6, 6, 1))
    edges = cr.ops.image.sobel_edges(inp)
    model = cr.Model(inp, edges)
    x = np.random.default_rng(3).random((8, 6, 6, 1)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               cr.ops.image.sobel_edges(x).numpy(), rtol=1e-6)
    conv = cr.layers.Conv2D(1, 3, padding="same")(inp)
    head = cr.layers.Dense(1)(cr.layers.Flatten()(cr.ops.image.sobel_edges(conv)))
    trained = cr.Model(inp, head)
    trained.compile("sgd", "mse", jit_compile=True)  # raises if the step cannot be captured
    trained.fit(x, np.ones((8, 1)), batch_size=4, epochs=2, verbose=0)
    assert any(e.program is not None for e in trained._steps.entries.values())


# -- MaxNumBoundingBoxes and ContrastLimitedAdaptiveHistogramEqualization ---------------------


@pytest.mark.parametrize("name", sorted(TOOL.CLAHE))
def test_clahe_matches_keras(name):
    _, dtype, kwargs = TOOL.CLAHE[name]
    layer = cr.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)
    y = layer(DATA[f"{name}_x"])
    want = DATA[f"{name}_y"]
    assert y.dtype == want.dtype == np.dtype(dtype) and y.shape == want.shape
    if dtype == "uint8":  # a truncating cast: a float32 rounding step may cross an integer
        assert np.abs(y.numpy().astype(int) - want).max() <= 1
        assert np.mean(y.numpy() == want) > 0.99
    else:
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-4 * want.max())
    config = json.loads(str(DATA[f"{name}_config"]))
    mine = layer.get_config()
    for key in ("value_range", "clip_limit", "tile_grid_size", "data_format"):
        assert np.allclose(mine[key], config[key]) if key != "data_format" else \
            mine[key] == config[key]
    again = cr.layers.ContrastLimitedAdaptiveHistogramEqualization.from_config(config)
    np.testing.assert_array_equal(again(DATA[f"{name}_x"]).numpy(), y.numpy())


def _clahe_reference(img, grid, clip):
    """One channel in [0, 255] (dimensions multiples of the grid): tiles' clipped
    histograms, their maps, then the four nearest tile centres blended per pixel."""
    h, w = img.shape
    th, tw = h // grid[0], w // grid[1]
    maps = np.zeros(grid + (256,))
    for i in range(grid[0]):
        for j in range(grid[1]):
            tile = img[i * th:(i + 1) * th, j * tw:(j + 1) * tw].astype(int)
            hist = np.bincount(tile.ravel(), minlength=256).astype(float)
            if clip > 0:
                limit = clip * th * tw / 256
                excess = np.sum(np.maximum(hist - limit, 0))
                hist = np.minimum(hist, limit) + excess / 256
            cdf = np.cumsum(hist)
            maps[i, j] = np.clip((cdf - cdf[0]) * 255 / ((th * tw - cdf[0]) or 1), 0, 255)
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            fy, fx = (y - th / 2) / th, (x - tw / 2) / tw  # position in tile-centre units
            i0, j0 = int(np.floor(fy)), int(np.floor(fx))
            a, b = fy - i0, fx - j0
            v = int(img[y, x])

            def at(i, j, v=v):
                return maps[min(max(i, 0), grid[0] - 1), min(max(j, 0), grid[1] - 1), v]

            out[y, x] = ((1 - a) * ((1 - b) * at(i0, j0) + b * at(i0, j0 + 1))
                         + a * ((1 - b) * at(i0 + 1, j0) + b * at(i0 + 1, j0 + 1)))
    return out


def test_clahe_matches_a_loop_reference_and_has_no_gradient():
    img = np.random.default_rng(5).integers(0, 120, (12, 8)).astype("float32")
    layer = cr.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(3, 2),
                                                                   clip_limit=2.0)
    got = layer(img[None, :, :, None]).numpy()[0, :, :, 0]
    np.testing.assert_allclose(got, _clahe_reference(img, (3, 2), 2.0), rtol=1e-4, atol=1e-3)
    t = cr.Tensor(img[None, :, :, None], requires_grad=True)
    assert not layer(t).requires_grad


def test_clahe_in_a_model_replays_and_saves(tmp_path):
    inp = cr.layers.Input((8, 8, 1))
    x = cr.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))(inp)
    x = cr.layers.Rescaling(1 / 255.0)(x)
    out = cr.layers.Dense(1)(cr.layers.Flatten()(x))
    model = cr.Model(inp, out)
    model.compile("sgd", "mse", jit_compile=True)  # raises if the step cannot be captured
    rng = np.random.default_rng(6)
    xs, ys = (rng.random((16, 8, 8, 1)) * 255).astype("float32"), rng.random((16, 1))
    model.fit(xs, ys, batch_size=8, epochs=2, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())
    path = str(tmp_path / "clahe.keras")
    model.save(path)
    again = cr.saving.load_model(path)
    np.testing.assert_allclose(again.predict(xs, verbose=0), model.predict(xs, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["maxnum_cut", "maxnum_pad"])
def test_max_num_bounding_boxes_matches_keras(name):
    config = json.loads(str(DATA["maxnum_config"]))
    layer = cr.layers.MaxNumBoundingBoxes.from_config({**config, "fill_value": -2})
    assert {k: v for k, v in layer.get_config().items() if k not in ("dtype", "fill_value")} \
        == {k: v for k, v in config.items() if k != "dtype"}
    images = np.zeros((2, 4, 4, 3), "float32")
    out = layer({"images": images, "bounding_boxes": {"boxes": DATA[f"{name}_boxes"],
                                                      "labels": DATA[f"{name}_labels"]},
                 "labels": np.array([1, 0])})
    boxes, labels = out["bounding_boxes"]["boxes"], out["bounding_boxes"]["labels"]
    assert boxes.dtype == np.float32 and labels.dtype == np.int32
    np.testing.assert_array_equal(boxes.numpy(), DATA[f"{name}_boxes_y"])
    np.testing.assert_array_equal(labels.numpy(), DATA[f"{name}_labels_y"])
    np.testing.assert_array_equal(out["images"].numpy(), images)
    np.testing.assert_array_equal(np.asarray(out["labels"]), [1, 0])


def test_max_num_bounding_boxes_single_image_plain_images_and_shapes():
    layer = cr.layers.MaxNumBoundingBoxes(2, bounding_box_format="yxyx")
    one = layer({"images": np.zeros((4, 4, 3)), "bounding_boxes": {
        "boxes": np.ones((3, 4)), "labels": np.arange(3)}})["bounding_boxes"]
    assert one["boxes"].shape == (2, 4) and one["labels"].numpy().tolist() == [0, 1]
    images = np.ones((1, 2, 2, 1), "float32")
    np.testing.assert_array_equal(np.asarray(layer(images)), images)
    shape = layer.compute_output_shape({"images": (None, 4, 4, 3), "bounding_boxes": {
        "boxes": (None, 7, 4), "labels": (None, 7)}})
    assert shape["bounding_boxes"] == {"boxes": (None, 2, 4), "labels": (None, 2)}
    with pytest.raises(ValueError, match="bounding box format"):
        cr.layers.MaxNumBoundingBoxes(2)({"images": images, "bounding_boxes": {
            "boxes": np.ones((1, 3, 4)), "labels": np.ones((1, 3))}})


# -- chainrule.distillation --------------------------------------------------------------------

kd = cr.distillation


def _weights(key):
    """The list of arrays the tool stored as ``key_0``, ``key_1``, ..."""
    return [DATA[f"{key}_{i}"] for i in range(sum(k.startswith(key + "_") for k in DATA.files))]


def _pair(name):
    """The fixture's teacher and student (same layers and names), with Keras's weights."""
    ti = cr.layers.Input((4,), name="teacher_in")
    th = cr.layers.Dense(6, activation="relu", name="t_hidden")(ti)
    teacher = cr.Model(ti, cr.layers.Dense(3, name="t_out")(th), name="teacher")
    si = cr.layers.Input((4,), name="student_in")
    sh = cr.layers.Dense(6, activation="tanh", name="s_hidden")(si)
    student = cr.Model(si, cr.layers.Dense(3, name="s_out")(sh), name="student")
    teacher.set_weights(_weights(f"{name}_teacher_weights"))
    student.set_weights(_weights(f"{name}_student_weights"))
    return teacher, student


def _distiller(name):
    """The fixture's setups (tools/keras_fixtures_kextras.py::distillation), in chainrule."""
    weight, targets, setup = TOOL.DISTILL[name]
    teacher, student = _pair(name)
    if setup == "logits":
        losses, loss_weights = kd.LogitsDistillation(temperature=2.0), None
        student_loss = cr.losses.SparseCategoricalCrossentropy(from_logits=True)
    elif setup == "mixed":
        losses = [kd.LogitsDistillation(temperature=3.0, loss=cr.losses.KLDivergence()),
                  kd.FeatureDistillation(loss="mse", teacher_layer_name="t_hidden",
                                         student_layer_name="s_hidden")]
        loss_weights, student_loss = [1.0, 0.5], "mse"
    else:
        losses, loss_weights = [kd.FeatureDistillation(loss="cosine_similarity")], None
        student_loss = "sparse_categorical_crossentropy"
    distiller = kd.Distiller(teacher, student, losses, distillation_loss_weights=loss_weights,
                             student_loss_weight=weight)
    distiller.compile(optimizer=cr.optimizers.SGD(0.1), loss=student_loss,
                      metrics=["mae"] if targets == "onehot" else None)
    labels = DATA["distill_labels"]
    y = np.eye(3, dtype="float32")[labels] if targets == "onehot" else labels
    return distiller, y


@pytest.mark.parametrize("name", sorted(TOOL.DISTILL))
def test_distiller_trains_as_keras(name):
    distiller, y = _distiller(name)
    x = DATA["distill_x"]
    teacher_before = distiller.teacher.get_weights()
    history = distiller.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    want = json.loads(str(DATA[f"{name}_history"]))
    assert sorted(history) == sorted(want)
    for key in want:
        np.testing.assert_allclose(history[key], want[key], rtol=2e-5, atol=1e-6, err_msg=key)
    for got, ref in zip(distiller.student.get_weights(), _weights(f"{name}_trained")):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    for got, ref in zip(distiller.teacher.get_weights(), teacher_before):  # frozen
        np.testing.assert_array_equal(got, ref)
    scores = distiller.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    want = json.loads(str(DATA[f"{name}_evaluate"]))
    assert sorted(scores) == sorted(want)
    for key in want:
        np.testing.assert_allclose(scores[key], want[key], rtol=2e-5, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(distiller.predict(x[:5], verbose=0), DATA[f"{name}_predict"],
                               rtol=1e-5, atol=1e-6)
    names = [n for n in json.loads(str(DATA[f"{name}_metrics_names"])) if n != "compile_metrics"]
    assert [m.name for m in distiller.metrics if m.name != "mae"] == names


def test_distiller_config_is_keras_and_loads_keras_config(tmp_path):
    keras_config = json.loads(str(DATA["distill_mixed_config"]))
    again = kd.Distiller.from_config(keras_config)
    assert (again.teacher.name, again.student.name) == ("teacher", "student")
    assert not again.teacher.trainable and again.student_loss_weight == 0.3
    assert again.distillation_loss_weights == [1.0, 0.5]
    logits, feature = again.distillation_losses
    assert isinstance(logits.loss, cr.losses.KLDivergence) and logits.temperature == 3.0
    assert feature.loss is cr.losses.mean_squared_error
    assert (feature.teacher_layer_name, feature.student_layer_name) == ("t_hidden", "s_hidden")

    distiller, y = _distiller("distill_mixed")
    config = distiller.get_config()
    assert set(config) == set(keras_config) - {"dtype"}
    for mine, theirs in zip(config["distillation_losses"], keras_config["distillation_losses"]):
        assert (mine["module"], mine["class_name"]) == (theirs["module"], theirs["class_name"])
        assert {k: v for k, v in mine["config"].items() if k != "loss"} == \
            {k: v for k, v in theirs["config"].items() if k != "loss"}
    x = DATA["distill_x"]
    distiller.fit(x, y, batch_size=8, epochs=1, verbose=0)
    path = str(tmp_path / "distiller.keras")
    distiller.save(path)
    loaded = cr.saving.load_model(path)
    assert type(loaded) is kd.Distiller and loaded.student_loss_weight == 0.3
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), distiller.predict(x, verbose=0))
    assert loaded.evaluate(x, y, verbose=0) == distiller.evaluate(x, y, verbose=0)
    loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)  # optimizer state too
    distiller.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(loaded.student.get_weights(), distiller.student.get_weights()):
        np.testing.assert_array_equal(a, b)


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_distillation_losses_match_numpy_and_have_gradients():
    rng = np.random.default_rng(7)
    t, s = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    kl = kd.LogitsDistillation(temperature=2.5, loss=cr.losses.KLDivergence())
    p, q = _softmax(t / 2.5), _softmax(s / 2.5)
    want = 2.5 ** 2 * np.mean(np.sum(p * np.log(p / q), -1))
    np.testing.assert_allclose(float(kl.compute_loss(t, s)), want, rtol=1e-10)
    # Keras's default: the name becomes the plain function, applied to the scaled logits
    plain = kd.LogitsDistillation(temperature=2.5)
    a, b = np.clip(t / 2.5, 1e-7, 1), np.clip(s / 2.5, 1e-7, 1)
    np.testing.assert_allclose(float(plain.compute_loss(t, s)),
                               np.mean(np.sum(a * np.log(a / b), -1)), rtol=1e-6)
    feature = kd.FeatureDistillation(loss=["mse", None, "mae"])
    got = feature.compute_loss([t, t, t], [s, s * 0, s])
    np.testing.assert_allclose(float(got), np.mean((t - s) ** 2) + np.mean(np.abs(t - s)),
                               rtol=1e-10)
    assert check_gradients(lambda v: kl.compute_loss(t, v), s)
    assert check_gradients(lambda v: kd.FeatureDistillation("mse").compute_loss(t, v), s)
    for loss in (kl, feature, kd.FeatureDistillation("cosine_similarity", "a", "b")):
        config = kd.distillation_loss.serialize(loss)
        again = kd.distillation_loss.deserialize(config)
        assert type(again) is type(loss) and again.get_config() == loss.get_config()


def test_custom_distillation_loss_and_subclassed_models():
    class MeanGap(kd.DistillationLoss):
        def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
            return cr.ops.mean(cr.ops.abs(teacher_outputs - student_outputs))

    class Tiny(cr.Model):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.dense = cr.layers.Dense(units)

        def call(self, inputs, training=None):
            return self.dense(inputs)

    distiller = kd.Distiller(Tiny(2), Tiny(2), MeanGap(), student_loss_weight=0.0)
    distiller.compile("sgd", loss="mse")
    x = np.random.default_rng(8).random((6, 3)).astype("float32")
    history = distiller.fit(x, np.zeros((6, 2)), epochs=3, verbose=0).history
    assert history["distillation_loss"][-1] < history["distillation_loss"][0]
    with pytest.raises(ValueError, match="subclassed"):
        kd.Distiller(Tiny(2), Tiny(2), kd.FeatureDistillation(teacher_layer_name="dense"))


# -- dtype_policies.DTypePolicyMap and config.set_backend ---------------------------------------


@pytest.mark.parametrize("name,default", [("policy_map_default", "float32"),
                                          ("policy_map_global", None)])
def test_dtype_policy_map_matches_keras(name, default):
    dp = cr.dtype_policies
    policy_map = dp.DTypePolicyMap(default_policy=default)
    for path, policy in TOOL.POLICY_MAP.items():
        policy_map[path] = dp.DTypePolicy(policy)
    assert [policy_map[p].name for p in TOOL.POLICY_LOOKUPS] == \
        json.loads(str(DATA[f"{name}_lookups"]))
    assert policy_map.name == str(DATA[f"{name}_name"])
    assert len(policy_map) == 3 and "decoder" in policy_map and list(policy_map)[0] == \
        "encoder/dense"
    keras_form = json.loads(str(DATA[f"{name}_serialized"]))
    assert dp.serialize(policy_map) == keras_form
    again = dp.get(keras_form)
    assert isinstance(again, dp.DTypePolicyMap) and list(again) == list(policy_map)
    if default is not None:
        assert again == policy_map and again["encoder/x"].name == "float16"
    else:  # Keras writes no names: the reloaded entries follow the global policy
        assert {again[p].name for p in policy_map} == {"float32"}


def test_dtype_policy_map_rules_and_layers():
    dp = cr.dtype_policies
    policy_map = dp.DTypePolicyMap("float64", {"a/.*": "float16", "a/b.*": "float32"})
    with pytest.raises(ValueError, match="matches multiple dtype policy"):
        policy_map["a/bc"]
    with pytest.raises(ValueError, match="already exist"):
        policy_map["a/.*"] = "float64"
    del policy_map["a/b.*"]
    assert policy_map["a/bc"].name == "float16"
    assert policy_map.compute_dtype == policy_map.variable_dtype == "float64"
    layer = cr.layers.Dense(2, dtype=policy_map)  # a layer takes the map's default policy
    assert layer.dtype == "float64"
    assert layer(np.ones((1, 3))).dtype == np.float64


def test_config_set_backend():
    with pytest.warns(UserWarning, match="set_backend"):
        cr.config.set_backend("numpy")
    assert cr.backend.get_backend() == "numpy" and cr.backend.backend() == "numpy"


def test_a_saved_distiller_loads_in_a_fresh_process(tmp_path):
    # chainrule.distillation loads on first use; a process that only loads the file finds
    # the Distiller class all the same
    import subprocess
    import sys

    def mlp(units):
        return cr.Sequential([cr.layers.Input((4,)), cr.layers.Dense(units),
                              cr.layers.Dense(3)])

    distiller = kd.Distiller(teacher=mlp(5), student=mlp(2),
                             distillation_losses=kd.LogitsDistillation())
    distiller.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    distiller.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
    distiller.save(tmp_path / "d.keras")
    code = ("import chainrule as cr, sys; print(type(cr.saving.load_model(sys.argv[1])).__name__)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "d.keras")], cwd=root,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": root})
    assert out.stdout.split() == ["Distiller"], out.stderr
