"""Geometric ``ops.image`` functions and the shear/perspective/elastic/erasing/mixing layers.

Deterministic results are compared with Keras 3's (tests/fixtures/keras_geom_aug.npz,
recorded by tools/keras_geom_aug_fixtures.py); random ones are checked by what they must
satisfy (convex mixes, box areas, erased boxes, seeds, identity in inference).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients
from chainrule.layers.preprocessing.geometric_augmentation import (
    RandomElasticOp,
    RandomErasingOp,
)

L = cr.layers
I = cr.ops.image  # noqa: E741
RNG = np.random.default_rng(0)
FIX = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "keras_geom_aug.npz"))
IMAGES = FIX["images"]

AFFINE = {
    "rotate_bilinear_constant": {"fill_value": 0.5},
    "shift_nearest_nearest": {"interpolation": "nearest", "fill_mode": "nearest"},
    "zoom_bilinear_reflect": {"fill_mode": "reflect"},
    "shear_bilinear_wrap": {"fill_mode": "wrap"},
    "projective_bilinear_constant": {},
}
PAD = {
    "pad_sides": {"top_padding": 1, "left_padding": 2, "bottom_padding": 0, "right_padding": 1},
    "pad_target": {"top_padding": 2, "left_padding": 1, "target_height": 7, "target_width": 8},
    "pad_first": {"bottom_padding": 1, "right_padding": 2, "target_height": 6,
                  "target_width": 8, "data_format": "channels_first"},
}
CROP = {
    "crop_sides": {"top_cropping": 1, "left_cropping": 2, "bottom_cropping": 2,
                   "right_cropping": 1},
    "crop_target": {"top_cropping": 2, "left_cropping": 1, "target_height": 3,
                    "target_width": 4},
    "crop_first": {"bottom_cropping": 1, "right_cropping": 2, "target_height": 4,
                   "target_width": 4, "data_format": "channels_first"},
}
SCALES = {
    "linear_up": ((2, 8, 9, 1), (1.6, 1.5), (0.3, -0.4), (1, 2), "linear", True),
    "linear_down_aa": ((1, 4, 5, 2), (0.45, 0.6), (0.2, 0.1), (1, 2), "bilinear", True),
    "linear_down": ((1, 4, 5, 2), (0.45, 0.6), (0.2, 0.1), (1, 2), "linear", False),
    "cubic_down_aa": ((1, 5, 4, 1), (0.55, 0.5), (0.0, 0.3), (1, 2), "cubic", True),
    "lanczos3_up": ((1, 7, 6, 1), (1.4,), (-0.2,), (1,), "lanczos3", True),
    "lanczos5_down": ((1, 7, 6, 1), (0.55,), (0.1,), (2,), "lanczos5", True),
}
LAYERS = {
    "RandomShear": lambda **kw: L.RandomShear(0.3, 0.3, **kw),
    "RandomPerspective": lambda **kw: L.RandomPerspective(**kw),
    "RandomElasticTransform": lambda **kw: L.RandomElasticTransform(value_range=(0, 1), **kw),
    "RandomErasing": lambda **kw: L.RandomErasing(value_range=(0, 1), **kw),
    "MixUp": lambda **kw: L.MixUp(**kw),
    "CutMix": lambda **kw: L.CutMix(**kw),
}


def close(a, b, atol=2e-5):
    np.testing.assert_allclose(np.asarray(a.numpy() if hasattr(a, "numpy") else a), b,
                               rtol=1e-5, atol=atol)


# -- ops against Keras --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(AFFINE))
def test_affine_transform_matches_keras(name):
    out = I.affine_transform(IMAGES, FIX[f"affine/{name}/transform"], **AFFINE[name])
    close(out, FIX[f"affine/{name}"])


def test_affine_transform_channels_first_and_unbatched_match_keras():
    t = FIX["affine/rotate_bilinear_constant/transform"]
    close(I.affine_transform(IMAGES.transpose(0, 3, 1, 2), t, data_format="channels_first"),
          FIX["affine/channels_first"])
    close(I.affine_transform(IMAGES[0], t[0], fill_mode="reflect"), FIX["affine/unbatched"])


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap"])
def test_map_coordinates_matches_keras(order, mode):
    out = I.map_coordinates(FIX["map/input"], FIX["map/coords"], order, mode, fill_value=-1.5)
    close(out, FIX[f"map/{order}/{mode}"], atol=1e-6)


def _padded_reference(x, coords, order, np_mode):
    """Sample a 2-D array through a wide NumPy pad (``symmetric`` is the documented
    ``reflect``, NumPy's ``reflect`` the documented ``mirror``), by hand."""
    p = 20
    big = np.pad(x, p, mode=np_mode)
    out = np.zeros(coords.shape[1:])
    for idx in np.ndindex(*coords.shape[1:]):
        r, c = coords[0][idx] + p, coords[1][idx] + p
        if order == 0:
            out[idx] = big[int(np.round(r)), int(np.round(c))]
        else:
            r0, c0 = int(np.floor(r)), int(np.floor(c))
            fr, fc = r - r0, c - c0
            out[idx] = ((1 - fr) * (1 - fc) * big[r0, c0] + (1 - fr) * fc * big[r0, c0 + 1]
                        + fr * (1 - fc) * big[r0 + 1, c0] + fr * fc * big[r0 + 1, c0 + 1])
    return out


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode, np_mode", [("reflect", "symmetric"), ("mirror", "reflect")])
def test_map_coordinates_reflect_and_mirror_follow_their_patterns(order, mode, np_mode):
    x, coords = FIX["map/input"].astype(np.float64), FIX["map/coords"].astype(np.float64)
    close(I.map_coordinates(x, coords, order, mode), _padded_reference(x, coords, order,
                                                                      np_mode), atol=1e-9)


def test_map_coordinates_of_a_volume_reads_all_eight_neighbours():
    x = RNG.normal(size=(3, 4, 5))
    pt = np.array([[1.3], [2.6], [0.2]])
    i, j, k = 1, 2, 0
    f = pt[:, 0] - [i, j, k]
    expected = sum(x[i + a, j + b, k + c] * (f[0] if a else 1 - f[0]) * (f[1] if b else 1 - f[1])
                   * (f[2] if c else 1 - f[2]) for a in (0, 1) for b in (0, 1) for c in (0, 1))
    close(I.map_coordinates(x, pt, 1), [expected], atol=1e-12)


@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
def test_perspective_transform_matches_keras(interp):
    out = I.perspective_transform(IMAGES, FIX["perspective/start"], FIX["perspective/end"],
                                  interpolation=interp, fill_value=2.0)
    close(out, FIX[f"perspective/{interp}"])


def test_perspective_transform_unbatched_channels_first_matches_keras():
    out = I.perspective_transform(IMAGES[0].transpose(2, 0, 1), FIX["perspective/start"][0],
                                  FIX["perspective/end"][0], data_format="channels_first")
    close(out, FIX["perspective/unbatched_first"])


def test_perspective_transform_maps_end_points_onto_start_points():
    start, end = FIX["perspective/start"], FIX["perspective/end"]
    m = I.compute_homography_matrix(start, end)
    for k in range(len(m)):
        a = m[k]
        for (sx, sy), (ex, ey) in zip(start[k], end[k]):
            den = a[6] * ex + a[7] * ey + 1
            np.testing.assert_allclose([(a[0] * ex + a[1] * ey + a[2]) / den,
                                        (a[3] * ex + a[4] * ey + a[5]) / den], [sx, sy],
                                       atol=1e-5)


@pytest.mark.parametrize("name", list(PAD))
def test_pad_images_matches_keras(name):
    close(I.pad_images(FIX[f"pad/{name}/input"], **PAD[name]), FIX[f"pad/{name}"], atol=0)


@pytest.mark.parametrize("name", list(CROP))
def test_crop_images_matches_keras(name):
    close(I.crop_images(FIX[f"crop/{name}/input"], **CROP[name]), FIX[f"crop/{name}"], atol=0)


@pytest.mark.parametrize("name", list(SCALES))
def test_scale_and_translate_matches_keras(name):
    shape, scale, trans, dims, method, aa = SCALES[name]
    out = I.scale_and_translate(FIX[f"scale/{name}/input"], shape, scale, trans, dims, method,
                                antialias=aa)
    close(out, FIX[f"scale/{name}"], atol=1e-6)


def test_scale_and_translate_rounds_integer_images():
    x = np.arange(12, dtype="int32").reshape(1, 3, 4, 1) * 10
    out = I.scale_and_translate(x, (1, 6, 8, 1), (2.0, 2.0), (0.0, 0.0), (1, 2), "linear")
    assert out.dtype == np.int32
    ref = I.scale_and_translate(x.astype("float64"), (1, 6, 8, 1), (2.0, 2.0), (0.0, 0.0),
                                (1, 2), "linear").numpy()
    np.testing.assert_array_equal(out.numpy(), np.clip(np.round(ref), 0, 110))


def test_elastic_transform_with_an_int_seed_is_repeatable_and_moves_pixels():
    x = RNG.uniform(size=(2, 16, 16, 3)).astype("float32")
    a = I.elastic_transform(x, alpha=4.0, sigma=2.0, seed=3).numpy()
    b = I.elastic_transform(x, alpha=4.0, sigma=2.0, seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, x)
    np.testing.assert_allclose(I.elastic_transform(x, alpha=0.0, seed=1).numpy(), x, atol=1e-6)
    cf = I.elastic_transform(x.transpose(0, 3, 1, 2), alpha=4.0, sigma=2.0, seed=3,
                             data_format="channels_first").numpy()
    np.testing.assert_allclose(cf.transpose(0, 2, 3, 1), a, atol=1e-6)
    # every channel of a pixel moves alike: equal channels stay equal
    same = np.repeat(x[..., :1], 3, axis=-1)
    out = I.elastic_transform(same, seed=2).numpy()
    np.testing.assert_array_equal(out[..., 0], out[..., 2])


# -- gradients (float64) ------------------------------------------------------------------------


class _Fixed:
    """A generator stand-in whose draws repeat at every forward pass."""

    def __getattr__(self, name):
        return getattr(np.random.default_rng(3), name)


GRAD_CASES = {
    "affine_bilinear_reflect": lambda x: I.affine_transform(
        x, [0.9, -0.3, 1.2, 0.35, 0.95, -0.7, 0.01, 0.0], fill_mode="reflect"),
    "affine_nearest_constant_first": lambda x: I.affine_transform(
        x, [1.0, 0.0, 0.6, 0.0, 1.0, -0.3, 0.0, 0.0], "nearest", fill_value=1.0,
        data_format="channels_first"),
    "map_coordinates": lambda x: I.map_coordinates(
        x[0, :, :, 0], np.array([[0.3, 2.7, -0.6], [1.2, 3.9, 5.1]]), 1, "mirror", 0.5),
    "perspective": lambda x: I.perspective_transform(
        x, [[0, 0], [4, 0], [0, 3], [4, 3]], [[0.4, 0.2], [4.1, 0.3], [0, 2.6], [3.8, 3.2]]),
    "elastic": lambda x: I.elastic_transform(x, alpha=2.0, sigma=1.0, seed=5,
                                             fill_mode="constant", fill_value=0.3),
    "crop": lambda x: I.crop_images(x, 1, 1, target_height=2, target_width=3),
    "pad": lambda x: I.pad_images(x, 1, 0, 2, 1),
    "scale_and_translate": lambda x: I.scale_and_translate(
        x, (2, 6, 3, 2), (1.4, 0.7), (0.2, -0.1), (1, 2), "cubic"),
    "erasing": lambda x: RandomErasingOp(_layer(L.RandomErasing(scale=(0.3, 0.6))))(x),
    "elastic_layer": lambda x: RandomElasticOp(_layer(L.RandomElasticTransform(
        value_range=(0.1, 0.9))))(x),
    "mixup": lambda x: _layer(L.MixUp(alpha=1.0))(x),
    "cutmix": lambda x: _layer(L.CutMix())(x),
}


def _layer(layer):
    layer._rng = _Fixed()
    return layer


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradients_with_respect_to_images(name):
    x = RNG.uniform(0.2, 0.8, size=(2, 4, 5, 2))
    result = check_gradients(GRAD_CASES[name], x)
    assert result.ok, str(result)


def test_mix_labels_get_gradients_too():
    x = RNG.uniform(size=(3, 2, 2, 1))
    y = RNG.uniform(size=(3, 4))
    result = check_gradients(lambda a, b: _layer(L.MixUp(alpha=1.0))(
        {"images": a, "labels": b})["labels"], x, y)
    assert result.ok, str(result)


# -- layers: Keras's deterministic paths --------------------------------------------------------


@pytest.mark.parametrize("mode", ["reflect", "constant"])
def test_random_shear_matrices_match_keras(mode):
    shear = FIX["layer/shear/factors"].astype(np.float64)
    out = I.affine_transform(IMAGES, L.RandomShear.shear_matrices(shear), fill_mode=mode,
                             fill_value=1.0)
    close(out, FIX[f"layer/shear/{mode}"])


def test_random_shear_draws_keras_matrices():
    layer = L.RandomShear((0.2, 0.2), (0.1, 0.1), fill_mode="constant")
    m = layer.draw(np.random.default_rng(0), 64, 5, 5)
    signs = np.sign(m[:, 1])
    np.testing.assert_allclose(m[:, 1], 0.2 * signs)
    np.testing.assert_allclose(m[:, 3], 0.1 * signs)  # both negated together
    assert set(signs) == {-1.0, 1.0}
    np.testing.assert_array_equal(m[:, [0, 4]], 1.0)
    np.testing.assert_array_equal(m[:, [2, 5, 6, 7]], 0.0)


def test_random_perspective_applies_to_chosen_images_only_as_keras():
    keras_out = FIX["layer/perspective"]  # Keras, apply_perspective=[True, False]
    close(keras_out[0], I.perspective_transform(IMAGES[0], FIX["perspective/start"][0],
                                                FIX["perspective/end"][0], fill_value=3.0))
    np.testing.assert_array_equal(keras_out[1], IMAGES[1])
    x = RNG.uniform(size=(8, 6, 7, 2)).astype("float32")
    np.testing.assert_array_equal(L.RandomPerspective(factor=0.0)(x).numpy(), x)
    np.testing.assert_array_equal(L.RandomPerspective(scale=0.0)(x).numpy(), x)
    moved = L.RandomPerspective(factor=(1.0, 1.0), seed=1)(x).numpy()
    assert all(not np.allclose(a, b) for a, b in zip(moved, x))


def test_random_perspective_moves_corners_by_at_most_half_the_scale():
    layer = L.RandomPerspective(factor=(1.0, 1.0), scale=0.4)
    m = layer.draw(np.random.default_rng(1), 16, 9, 11)
    corners = layer.corners(9, 11)
    for a in m:  # the output corner (1 + f) c reads the input corner c, |f| <= scale / 2
        inverse = np.linalg.inv(np.append(a, 1.0).reshape(3, 3))
        for c in corners:
            e = inverse @ np.append(c, 1.0)
            np.testing.assert_array_less(np.abs(e[:2] / e[2] - c), 0.2 * c + 1e-9)


def test_random_erasing_of_the_whole_image_matches_keras():
    layer = L.RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), fill_value=300,
                            value_range=(0, 255))
    np.testing.assert_array_equal(layer(IMAGES * 30).numpy(), FIX["layer/erasing_all"])


def test_get_config_keys_are_keras_keys():
    keras_keys = json.loads(str(FIX["config_keys"]))
    for name, keys in keras_keys.items():
        # the base layer's dtype entry is chainrule's own business (it writes it when set)
        assert set(getattr(L, name)().get_config()) - {"dtype"} == set(keys) - {"dtype"}, name


# -- layers: what the random draws must satisfy -------------------------------------------------


def test_mixup_is_one_convex_combination_per_sample_for_images_and_labels():
    n = 32
    x = RNG.uniform(size=(n, 4, 4, 3)).astype("float32")
    y = np.eye(n, dtype="float32")
    out = L.MixUp(alpha=1.0, seed=3)({"images": x, "labels": y}, training=True)
    xi, yl = out["images"].numpy(), out["labels"].numpy()
    np.testing.assert_allclose(yl.sum(1), 1.0, rtol=1e-6)
    mixed = 0
    for i in range(n):
        lam = yl[i, i]
        others = np.delete(np.arange(n), i)
        j = others[np.argmax(yl[i, others])]
        assert 0.0 <= lam <= 1.0 and np.count_nonzero(yl[i] > 1e-7) <= 2
        partner = 1.0 - lam if j != i else 0.0
        np.testing.assert_allclose(xi[i], lam * x[i] + yl[i, j] * x[j], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(yl[i, j], partner if yl[i, j] > 1e-7 else 0.0, atol=1e-6)
        mixed += 0.05 < lam < 0.95
    assert mixed > n // 4  # alpha=1: lambda is uniform


def test_cutmix_pastes_a_box_whose_area_is_the_label_mix():
    n, h, w = 24, 32, 32
    x = np.broadcast_to(np.arange(n, dtype="float32")[:, None, None, None], (n, h, w, 1)).copy()
    y = np.eye(n, dtype="float32")
    out = L.CutMix(seed=4)({"images": x, "labels": y})
    xi, yl = out["images"].numpy()[..., 0], out["labels"].numpy()
    np.testing.assert_allclose(yl.sum(1), 1.0, rtol=1e-6)
    checked = 0
    for i in range(n):
        pasted = xi[i] != i
        if not pasted.any():
            continue
        (j,) = np.unique(xi[i][pasted])  # one partner
        lam = yl[i, i]
        np.testing.assert_allclose(yl[i, int(j)], 1 - lam, atol=1e-6)
        rows, cols = np.nonzero(pasted.any(1))[0], np.nonzero(pasted.any(0))[0]
        assert pasted[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()  # a solid box
        assert pasted.sum() == len(rows) * len(cols)
        side = np.sqrt(1 - lam) * w  # the box's side before it meets the pixel grid
        assert abs(pasted.mean() - (1 - lam)) <= (2 * side + 1) / (h * w)
        checked += 1
    assert checked > n // 2


def test_cutmix_leaves_a_single_image_alone():
    x = RNG.uniform(size=(6, 6, 3)).astype("float32")
    np.testing.assert_array_equal(L.CutMix(seed=1)(x).numpy(), x)


def test_random_erasing_erases_one_box_with_the_fill_value():
    n, h, w = 16, 20, 24
    x = np.full((n, h, w, 3), 5.0, dtype="float32")
    out = L.RandomErasing(factor=(1.0, 1.0), scale=(0.1, 0.4), fill_value=(1, 2, 3),
                          value_range=(0, 10), seed=2)(x).numpy()
    for img in out:
        erased = img[..., 0] != 5
        rows, cols = np.nonzero(erased.any(1))[0], np.nonzero(erased.any(0))[0]
        assert erased.sum() == len(rows) * len(cols)  # one solid box
        np.testing.assert_array_equal(img[erased], np.tile([1, 2, 3], (erased.sum(), 1)))
        assert np.sqrt(0.1) * h - 1 <= len(rows) <= np.sqrt(0.4) * h + 1
        assert np.sqrt(0.1) * w - 1 <= len(cols) <= np.sqrt(0.4) * w + 1
    noisy = L.RandomErasing(factor=(1.0, 1.0), scale=(0.5, 0.5), value_range=(0, 10),
                            seed=1)(x).numpy()
    assert noisy.min() >= 0 and noisy.max() <= 10 and len(np.unique(noisy)) > 10
    none = L.RandomErasing(factor=0.0, seed=1)(x).numpy()
    np.testing.assert_array_equal(none, x)


def test_random_elastic_transform_clips_and_moves():
    x = RNG.uniform(size=(4, 16, 16, 1)).astype("float32") * 255
    out = L.RandomElasticTransform(factor=(1.0, 1.0), value_range=(50, 200), seed=1)(x).numpy()
    assert out.min() >= 50 and out.max() <= 200
    assert all(not np.allclose(a, np.clip(b, 50, 200)) for a, b in zip(out, x))
    still = L.RandomElasticTransform(factor=0.0, seed=1)(x).numpy()
    np.testing.assert_array_equal(still, x)


@pytest.mark.parametrize("name", list(LAYERS))
def test_seed_reproducibility_and_fresh_draws(name):
    x = RNG.uniform(size=(6, 10, 12, 3)).astype("float32")
    a, b = LAYERS[name](seed=7), LAYERS[name](seed=7)
    first = a(x).numpy()
    np.testing.assert_array_equal(first, b(x).numpy())
    assert not np.array_equal(first, a(x).numpy())  # the next call draws anew
    assert not np.array_equal(first, LAYERS[name](seed=8)(x).numpy())


@pytest.mark.parametrize("name", list(LAYERS))
def test_identity_when_not_training(name):
    x = RNG.uniform(size=(4, 8, 8, 3)).astype("float32")
    layer = LAYERS[name](seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    if name in ("MixUp", "CutMix"):
        data = {"images": x, "labels": np.eye(4)}
        out = layer(data, training=False)
        assert sorted(out) == ["images", "labels"]
        for key in data:
            np.testing.assert_array_equal(out[key].numpy(), data[key])


@pytest.mark.parametrize("name", list(LAYERS))
def test_channels_first_and_unbatched_inputs(name):
    x = RNG.uniform(size=(4, 8, 9, 3)).astype("float32")
    last = LAYERS[name](seed=2)(x).numpy()
    first = LAYERS[name](seed=2, data_format="channels_first")(x.transpose(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), last, rtol=1e-6, atol=1e-6)
    single = LAYERS[name](seed=2)(x[0]).numpy()
    assert single.shape == x[0].shape


@pytest.mark.parametrize("name", list(LAYERS))
def test_config_round_trip(name):
    layer = LAYERS[name](seed=3, name=f"aug_{name.lower()}")
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    json.dumps(config)


def test_shear_config_keeps_the_factor_as_given():
    layer = L.RandomShear(0.3, (0.1, 0.2), fill_mode="constant", fill_value=2.0)
    config = layer.get_config()
    assert config["x_factor"] == 0.3 and config["y_factor"] == [0.1, 0.2]
    again = L.RandomShear.from_config(config)
    assert again._x == (-0.3, 0.3) and again._y == (0.1, 0.2)


# -- in models ----------------------------------------------------------------------------------


def _augmenting_model(jit):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = cr.Sequential([
        L.Input(shape=(8, 8, 3)), L.RandomShear(0.2, 0.2), L.RandomPerspective(scale=0.3),
        L.RandomElasticTransform(value_range=(0, 1)), L.RandomErasing(value_range=(0, 1)),
        L.MixUp(), L.CutMix(), L.Flatten(), L.Dense(2)])
    model.compile("sgd", cr.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit)
    x = np.random.default_rng(1).uniform(size=(16, 8, 8, 3)).astype("float32")
    y = np.arange(16) % 2
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    return model, x


def test_a_model_with_the_layers_trains_captured_like_the_tape_and_saves(tmp_path):
    fast, x = _augmenting_model("auto")
    slow, _ = _augmenting_model(False)
    assert [e.program for k, e in fast._steps.entries.items()
            if k[0] == "train" and e.program is not None]
    assert not slow._steps.entries
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)
    w, b = fast.layers[-1].get_weights()
    np.testing.assert_allclose(fast.predict(x, verbose=0), x.reshape(16, -1) @ w + b,
                               rtol=1e-5, atol=1e-5)  # identity in inference
    path = str(tmp_path / "aug.keras")
    fast.save(path)
    loaded = cr.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers[:6]] == [
        "RandomShear", "RandomPerspective", "RandomElasticTransform", "RandomErasing", "MixUp",
        "CutMix"]
    assert loaded.layers[0].get_config() == fast.layers[0].get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), fast.predict(x, verbose=0))


def test_jit_compile_captures_the_model():
    model, _ = _augmenting_model(True)
    assert model._steps.entries
