"""chainrule.losses: golden values against an independent NumPy reference (float64),
Keras 3's documented numbers, reductions and sample weights, the logits shortcut,
gradient checks for every loss, label validation, and the registry."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import losses, ops
from chainrule.gradcheck import check_gradients

EPS = 1e-7
rng = np.random.default_rng(42)


def u(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def probs(n, c):
    p = rng.uniform(0.05, 1.0, size=(n, c))
    return p / p.sum(-1, keepdims=True)


def one_hot(labels, c):
    return np.eye(c)[labels]


def val(t):
    return np.asarray(t.data, dtype=np.float64)


# -- an independent NumPy reference, written from Keras 3's documented formulas ------


def np_log_softmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def np_log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


REF = {
    "mean_squared_error": lambda t, p: np.mean((t - p) ** 2, -1),
    "mean_absolute_error": lambda t, p: np.mean(np.abs(t - p), -1),
    "mean_absolute_percentage_error": lambda t, p: 100 * np.mean(
        np.abs((t - p) / np.maximum(np.abs(t), EPS)), -1
    ),
    "mean_squared_logarithmic_error": lambda t, p: np.mean(
        (np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2, -1
    ),
    "huber": lambda t, p: np.mean(
        np.where(np.abs(p - t) <= 1.0, 0.5 * (p - t) ** 2, np.abs(p - t) - 0.5), -1
    ),
    "log_cosh": lambda t, p: np.mean(np.log(np.cosh(p - t)), -1),
    "hinge": lambda t, p: np.mean(np.maximum(1 - t * p, 0), -1),
    "squared_hinge": lambda t, p: np.mean(np.maximum(1 - t * p, 0) ** 2, -1),
    "categorical_hinge": lambda t, p: np.maximum(
        np.max((1 - t) * p, -1) - np.sum(t * p, -1) + 1, 0
    ),
    "kl_divergence": lambda t, p: np.sum(
        np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1)), -1
    ),
    "poisson": lambda t, p: np.mean(p - t * np.log(p + EPS), -1),
    "cosine_similarity": lambda t, p: -np.sum(
        t / np.linalg.norm(t, axis=-1, keepdims=True)
        * p / np.linalg.norm(p, axis=-1, keepdims=True),
        -1,
    ),
}


def ref_bce(t, p, from_logits=False, ls=0.0):
    t = t * (1 - ls) + 0.5 * ls
    if from_logits:
        e = -(t * np_log_sigmoid(p) + (1 - t) * np_log_sigmoid(-p))
    else:
        q = np.clip(p, EPS, 1 - EPS)
        e = -(t * np.log(q) + (1 - t) * np.log(1 - q))
    return e.mean(-1)


def ref_cce(t, p, from_logits=False, ls=0.0):
    c = p.shape[-1]
    t = t * (1 - ls) + ls / c
    if from_logits:
        logp = np_log_softmax(p)
    else:
        logp = np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))
    return -(t * logp).sum(-1)


def ref_scce(labels, p, from_logits=False):
    return ref_cce(one_hot(labels, p.shape[-1]), p, from_logits)


def ref_reduce(values, sw=None, reduction="sum_over_batch_size"):
    if sw is not None:
        sw = np.asarray(sw, dtype=np.float64)
        while sw.ndim < values.ndim:
            sw = sw[..., None]
        values = values * sw
    if reduction in (None, "none"):
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and sw is not None:
        return values.sum() / sw.sum()
    return values.sum() / values.size


# inputs per regression-style function: (y_true, y_pred), away from kinks
def regression_inputs(name):
    if name == "mean_absolute_percentage_error":
        return u(4, 3, low=0.5, high=2.0) * rng.choice([-1, 1], size=(4, 3)), u(4, 3)
    if name == "mean_squared_logarithmic_error":
        return u(4, 3, low=0.1, high=3.0), u(4, 3, low=0.1, high=3.0)
    if name in ("hinge", "squared_hinge"):
        return rng.choice([-1.0, 1.0], size=(4, 3)), u(4, 3, low=-3, high=3)
    if name == "categorical_hinge":
        return one_hot(rng.integers(0, 3, 4), 3), u(4, 3)
    if name == "kl_divergence":
        return probs(4, 3), probs(4, 3)
    if name == "poisson":
        return rng.integers(0, 4, size=(4, 3)).astype(float), u(4, 3, low=0.2, high=3.0)
    return u(4, 3), u(4, 3)


REGRESSION = sorted(REF)


@pytest.mark.parametrize("name", REGRESSION)
def test_function_matches_reference(name):
    t, p = regression_inputs(name)
    got = getattr(losses, name)(t, p)
    assert got.shape == (4,)
    assert got.dtype == np.float64
    np.testing.assert_allclose(val(got), REF[name](t, p), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", REGRESSION)
def test_function_gradients(name):
    t, p = regression_inputs(name)
    fn = getattr(losses, name)
    if name in ("hinge", "squared_hinge", "categorical_hinge"):
        # labels are discrete: differentiate only with respect to y_pred
        r = check_gradients(lambda pp: fn(t, pp), p)
    else:
        r = check_gradients(fn, t, p)
    assert r.ok, str(r)


def test_huber_delta_reference_and_gradient():
    t, p = u(5, 4, low=-3, high=3), u(5, 4, low=-3, high=3)
    e = p - t
    ref = np.mean(np.where(np.abs(e) <= 0.5, 0.5 * e**2, 0.5 * np.abs(e) - 0.125), -1)
    np.testing.assert_allclose(val(losses.huber(t, p, delta=0.5)), ref, rtol=1e-12)
    assert check_gradients(lambda a, b: losses.huber(a, b, delta=0.5), t, p).ok


def test_hinge_converts_binary_labels():
    p = u(3, 4)
    t01 = rng.integers(0, 2, size=(3, 4))
    np.testing.assert_allclose(
        val(losses.hinge(t01, p)), REF["hinge"](2.0 * t01 - 1, p), rtol=1e-12
    )
    np.testing.assert_allclose(
        val(losses.squared_hinge(t01, p)), REF["squared_hinge"](2.0 * t01 - 1, p), rtol=1e-12
    )
    # labels that are not all 0/1 are used as they are
    t = np.array([[-1.0, 1.0, 0.0, 1.0]])
    np.testing.assert_allclose(val(losses.hinge(t, p[:1])), REF["hinge"](t, p[:1]))


def test_log_cosh_is_stable_for_large_errors():
    got = val(losses.log_cosh(np.zeros((1, 2)), np.array([[1000.0, -1000.0]])))
    np.testing.assert_allclose(got, [1000.0 - np.log(2.0)], rtol=1e-12)


def test_cosine_similarity_axis_and_zero_vector():
    t, p = u(3, 4), u(3, 4)
    got = losses.cosine_similarity(t, p, axis=0)
    ref = -np.sum(t / np.linalg.norm(t, axis=0) * p / np.linalg.norm(p, axis=0), 0)
    np.testing.assert_allclose(val(got), ref, rtol=1e-12)
    zero = losses.cosine_similarity(np.zeros((1, 3)), np.ones((1, 3)))
    assert val(zero)[0] == 0.0
    assert check_gradients(lambda a, b: losses.cosine_similarity(a, b, axis=0), t, p).ok


# -- Keras 3's documented numbers -----------------------------------------------------


def test_keras_documented_examples():
    yt = np.array([[0.0, 1.0], [0.0, 0.0]])
    yp = np.array([[0.6, 0.4], [0.4, 0.6]])
    np.testing.assert_allclose(val(losses.binary_crossentropy(yt, yp)), [0.916, 0.714], atol=1e-3)
    assert float(losses.Huber()(yt, yp)) == pytest.approx(0.155, abs=1e-3)
    assert float(losses.LogCosh()(yt, [[1.0, 1.0], [0.0, 0.0]])) == pytest.approx(0.108, abs=1e-3)
    mse = losses.MeanSquaredError()(np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.1, 0.8]))
    assert float(mse) == pytest.approx(0.02, abs=1e-12)
    assert float(losses.MeanAbsoluteError()([1.0, 0.3, 1.0], [1.9, 0.3, 1.8])) == pytest.approx(
        0.5666667, abs=1e-7
    )
    mape = losses.MeanAbsolutePercentageError()([100.0, 200.0, 300.0], [90.0, 210.0, 310.0])
    assert float(mape) == pytest.approx(6.111111, abs=1e-6)
    cos = losses.cosine_similarity(
        [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]
    )
    np.testing.assert_allclose(val(cos), [0.0, -1.0, 1.0], atol=1e-6)


def test_keras_documented_binary_crossentropy_from_logits():
    yt = np.array([[0.0, 1.0], [0.0, 0.0]])
    yp = np.array([[-18.6, 0.51], [2.94, -12.8]])
    assert float(losses.BinaryCrossentropy(from_logits=True)(yt, yp)) == pytest.approx(
        0.8654, abs=1e-3
    )
    bce = losses.BinaryCrossentropy(from_logits=True)
    assert float(bce(yt, yp, sample_weight=[0.8, 0.2])) == pytest.approx(0.243, abs=1e-3)
    bce = losses.BinaryCrossentropy(from_logits=True, reduction="sum")
    assert float(bce(yt, yp)) == pytest.approx(1.730, abs=1e-3)
    bce = losses.BinaryCrossentropy(from_logits=True, reduction=None)
    np.testing.assert_allclose(val(bce(yt, yp)), [0.235, 1.496], atol=1e-3)


@pytest.mark.parametrize("sparse", [False, True])
def test_keras_documented_categorical_crossentropy(sparse):
    yp = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    yt = np.array([1, 2]) if sparse else np.array([[0, 1, 0], [0, 0, 1]])
    cls = losses.SparseCategoricalCrossentropy if sparse else losses.CategoricalCrossentropy
    assert float(cls()(yt, yp)) == pytest.approx(1.177, abs=1e-3)
    assert float(cls()(yt, yp, sample_weight=np.array([0.3, 0.7]))) == pytest.approx(
        0.814, abs=1e-3
    )
    assert float(cls(reduction="sum")(yt, yp)) == pytest.approx(2.354, abs=1e-3)
    np.testing.assert_allclose(val(cls(reduction=None)(yt, yp)), [0.0513, 2.303], atol=1e-3)


# -- cross-entropies against the reference ------------------------------------------------


@pytest.mark.parametrize("ls", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy_reference(from_logits, ls):
    t = one_hot(rng.integers(0, 5, 6), 5)
    p = u(6, 5) if from_logits else rng.uniform(0.01, 3.0, size=(6, 5))  # unnormalized on purpose
    got = losses.categorical_crossentropy(t, p, from_logits=from_logits, label_smoothing=ls)
    np.testing.assert_allclose(val(got), ref_cce(t, p, from_logits, ls), rtol=1e-12)


def test_label_smoothing_by_hand():
    # 3 classes, label_smoothing 0.3: targets become 0.1, 0.8, 0.1
    p = np.array([[0.2, 0.5, 0.3]])
    got = float(losses.categorical_crossentropy(np.array([[0.0, 1.0, 0.0]]), p,
                                                label_smoothing=0.3)[0])
    assert got == pytest.approx(-(0.1 * np.log(0.2) + 0.8 * np.log(0.5) + 0.1 * np.log(0.3)), abs=1e-14)
    # binary: 1 -> 0.85 and 0 -> 0.15 with label_smoothing 0.3
    got = float(losses.binary_crossentropy(np.array([[1.0, 0.0]]), np.array([[0.7, 0.4]]),
                                           label_smoothing=0.3)[0])
    want = -(0.85 * np.log(0.7) + 0.15 * np.log(0.3) + 0.15 * np.log(0.4) + 0.85 * np.log(0.6)) / 2
    assert got == pytest.approx(want, abs=1e-14)


@pytest.mark.parametrize("ls", [0.0, 0.2])
@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_reference(from_logits, ls):
    t = rng.integers(0, 2, size=(5, 3)).astype(float)
    p = u(5, 3, low=-4, high=4) if from_logits else rng.uniform(0.02, 0.98, size=(5, 3))
    got = losses.binary_crossentropy(t, p, from_logits=from_logits, label_smoothing=ls)
    np.testing.assert_allclose(val(got), ref_bce(t, p, from_logits, ls), rtol=1e-12)


def test_probabilities_are_clipped_to_epsilon():
    t, p = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    # BCE: -log(eps) for the wrong 1, -log(1 - (1 - eps)) for the wrong 0; mean of the two
    np.testing.assert_allclose(val(losses.binary_crossentropy(t, p)), [-np.log(EPS)], rtol=1e-6)
    np.testing.assert_allclose(val(losses.categorical_crossentropy(t, p)), [-np.log(EPS)],
                               rtol=1e-12)
    np.testing.assert_allclose(val(losses.sparse_categorical_crossentropy([0], p)),
                               [-np.log(EPS)], rtol=1e-12)
    # in float32, 1 - eps rounds as it does in Keras
    got = losses.categorical_crossentropy(t.astype(np.float32), p.astype(np.float32))
    assert np.isfinite(val(got)).all() and val(got)[0] == pytest.approx(16.118, abs=1e-3)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_reference(from_logits):
    labels = rng.integers(0, 4, 7)
    p = u(7, 4) if from_logits else rng.uniform(0.01, 2.0, size=(7, 4))
    got = losses.sparse_categorical_crossentropy(labels, p, from_logits=from_logits)
    np.testing.assert_allclose(val(got), ref_scce(labels, p, from_logits), rtol=1e-12)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([0, 2, 1]),
        np.array([[0], [2], [1]]),
        np.array([0.0, 2.0, 1.0]),
        np.array([[0.0], [2.0], [1.0]], dtype=np.float32),
        [0, 2, 1],
        cr.Tensor(np.array([0, 2, 1])),
    ],
    ids=["int", "int_column", "float", "float32_column", "list", "tensor"],
)
def test_sparse_label_forms(labels):
    p = probs(3, 3)
    got = losses.sparse_categorical_crossentropy(labels, p)
    np.testing.assert_allclose(val(got), ref_scce(np.array([0, 2, 1]), p), rtol=1e-12)


def test_sparse_and_categorical_on_higher_rank_and_other_axis():
    p = rng.uniform(0.05, 1.0, size=(2, 3, 4))
    labels = rng.integers(0, 4, size=(2, 3))
    got = losses.sparse_categorical_crossentropy(labels, p)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(val(got), ref_scce(labels, p), rtol=1e-12)
    # class axis 1: move it last in the reference
    pt = np.moveaxis(p, 2, 1)  # (2, 4, 3), classes on axis 1
    got = losses.sparse_categorical_crossentropy(labels, pt, axis=1)
    np.testing.assert_allclose(val(got), ref_scce(labels, p), rtol=1e-12)
    got = losses.categorical_crossentropy(np.moveaxis(one_hot(labels, 4), 2, 1), pt, axis=1)
    np.testing.assert_allclose(val(got), ref_scce(labels, p), rtol=1e-12)
    got = losses.categorical_crossentropy(
        np.moveaxis(one_hot(labels, 4), 2, 1), np.log(pt), axis=1, from_logits=True
    )
    np.testing.assert_allclose(val(got), ref_scce(labels, np.log(p), True), rtol=1e-12)


@pytest.mark.parametrize(
    "fn, make",
    [
        (lambda t, p: losses.binary_crossentropy(t, p), lambda: (
            rng.integers(0, 2, (4, 3)).astype(float), rng.uniform(0.05, 0.95, (4, 3)))),
        (lambda t, p: losses.binary_crossentropy(t, p, from_logits=True, label_smoothing=0.1),
         lambda: (rng.integers(0, 2, (4, 3)).astype(float), u(4, 3))),
        (lambda t, p: losses.categorical_crossentropy(t, p), lambda: (probs(4, 3), probs(4, 3))),
        (lambda t, p: losses.categorical_crossentropy(t, p, from_logits=True, label_smoothing=0.2),
         lambda: (probs(4, 3), u(4, 3))),
        # (numerical_gradient needs C-contiguous inputs, hence ascontiguousarray)
        (lambda t, p: losses.categorical_crossentropy(t, p, axis=0),
         lambda: (np.ascontiguousarray(probs(3, 4).T), np.ascontiguousarray(probs(3, 4).T))),
        (lambda t, p: losses.categorical_crossentropy(t, p, from_logits=True, axis=0),
         lambda: (np.ascontiguousarray(probs(3, 4).T), u(4, 3))),
    ],
    ids=["bce", "bce_logits", "cce", "cce_logits", "cce_axis0", "cce_logits_axis0"],
)
def test_crossentropy_gradients(fn, make):
    t, p = make()
    r = check_gradients(fn, t, p)
    assert r.ok, str(r)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_crossentropy_gradients(from_logits):
    labels = rng.integers(0, 4, 5)
    p = u(5, 4) if from_logits else rng.uniform(0.1, 1.0, (5, 4))
    r = check_gradients(
        lambda pp: losses.sparse_categorical_crossentropy(labels, pp, from_logits=from_logits), p
    )
    assert r.ok, str(r)
    p3 = rng.uniform(0.1, 1.0, (2, 4, 3))
    lab3 = rng.integers(0, 4, (2, 3))
    r = check_gradients(lambda pp: losses.sparse_categorical_crossentropy(lab3, pp, axis=1), p3)
    assert r.ok, str(r)


def test_ignore_class():
    p = probs(4, 3)
    labels = np.array([0, -1, 2, -1])
    got = losses.sparse_categorical_crossentropy(labels, p, ignore_class=-1)
    ref = ref_scce(np.array([0, 0, 2, 0]), p) * np.array([1, 0, 1, 0])
    np.testing.assert_allclose(val(got), ref, rtol=1e-12)
    # the default reduction averages over the 2 valid samples only (Keras's mask)
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    assert float(loss(labels, p)) == pytest.approx(ref.sum() / 2, rel=1e-12)
    assert float(losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction="sum")(
        labels, p)) == pytest.approx(ref.sum(), rel=1e-12)
    sw = np.array([0.5, 3.0, 2.0, 1.0])
    weighted = losses.SparseCategoricalCrossentropy(ignore_class=-1)(labels, p, sample_weight=sw)
    assert float(weighted) == pytest.approx((ref * sw).sum() / 2, rel=1e-12)
    mws = losses.SparseCategoricalCrossentropy(ignore_class=-1, reduction="mean_with_sample_weight")
    assert float(mws(labels, p, sample_weight=sw)) == pytest.approx(
        (ref * sw).sum() / (0.5 + 2.0), rel=1e-12
    )
    # ignored rows get no gradient; an ignored label may be out of range (e.g. 255)
    x = cr.Tensor(np.log(p), requires_grad=True)
    losses.SparseCategoricalCrossentropy(ignore_class=255)(np.array([0, 255, 2, 255]),
                                                          ops.softmax(x)).backward()
    assert np.all(x.grad[[1, 3]] == 0)


# -- reductions and sample weights --------------------------------------------------------

REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "cls, fn_ref, make",
    [
        (losses.MeanSquaredError, REF["mean_squared_error"], lambda: (u(5, 3), u(5, 3))),
        (losses.MeanAbsoluteError, REF["mean_absolute_error"], lambda: (u(5, 3), u(5, 3))),
        (losses.Huber, REF["huber"], lambda: (u(5, 3), u(5, 3))),
        (losses.LogCosh, REF["log_cosh"], lambda: (u(5, 3), u(5, 3))),
        (losses.Poisson, REF["poisson"], lambda: (u(5, 3, low=0, high=3), u(5, 3, low=0.1, high=3))),
        (losses.KLDivergence, REF["kl_divergence"], lambda: (probs(5, 3), probs(5, 3))),
        (losses.CosineSimilarity, REF["cosine_similarity"], lambda: (u(5, 3), u(5, 3))),
        (losses.Hinge, REF["hinge"], lambda: (rng.choice([-1.0, 1.0], (5, 3)), u(5, 3))),
        (losses.SquaredHinge, REF["squared_hinge"], lambda: (rng.choice([-1.0, 1.0], (5, 3)),
                                                            u(5, 3))),
        (losses.CategoricalHinge, REF["categorical_hinge"],
         lambda: (one_hot(rng.integers(0, 3, 5), 3), u(5, 3))),
        (losses.MeanAbsolutePercentageError, REF["mean_absolute_percentage_error"],
         lambda: (u(5, 3, low=0.5, high=2), u(5, 3))),
        (losses.MeanSquaredLogarithmicError, REF["mean_squared_logarithmic_error"],
         lambda: (u(5, 3, low=0, high=3), u(5, 3, low=0, high=3))),
        (losses.BinaryCrossentropy, ref_bce,
         lambda: (rng.integers(0, 2, (5, 3)).astype(float), rng.uniform(0.05, 0.95, (5, 3)))),
        (losses.CategoricalCrossentropy, ref_cce, lambda: (probs(5, 3), probs(5, 3))),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_class_reductions(cls, fn_ref, make, weighted, reduction):
    t, p = make()
    sw = rng.uniform(0.0, 2.0, size=5) if weighted else None
    got = cls(reduction=reduction)(t, p, sample_weight=sw)
    want = ref_reduce(fn_ref(t, p), sw, reduction)
    np.testing.assert_allclose(val(got), want, rtol=1e-12, atol=1e-14)
    if reduction not in (None, "none"):
        assert got.shape == ()


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_class_gradients(reduction):
    t, p = u(4, 3), u(4, 3)
    sw = rng.uniform(0.5, 2.0, size=4)
    r = check_gradients(
        lambda a, b: losses.MeanSquaredError(reduction=reduction)(a, b, sample_weight=sw), t, p
    )
    assert r.ok, str(r)
    labels = rng.integers(0, 3, 4)
    r = check_gradients(
        lambda z: losses.SparseCategoricalCrossentropy(from_logits=True, reduction=reduction)(
            labels, z, sample_weight=sw), p
    )
    assert r.ok, str(r)


def test_sum_over_batch_size_divides_by_element_count_not_weight_sum():
    t = np.array([[0.0], [0.0], [0.0], [0.0]])
    p = np.array([[1.0], [2.0], [3.0], [4.0]])
    sw = np.array([1.0, 0.0, 0.0, 0.0])
    assert float(losses.MeanSquaredError()(t, p, sample_weight=sw)) == 0.25  # 1 / 4, not 1 / 1
    mws = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert float(mws(t, p, sample_weight=sw)) == 1.0


def test_sample_weight_shapes():
    t, p = u(4, 3), u(4, 3)
    per_sample = REF["mean_squared_error"](t, p)
    sw = rng.uniform(0, 2, 4)
    mse = losses.MeanSquaredError(reduction="none")
    for w in (sw, cr.Tensor(sw), list(sw)):
        np.testing.assert_allclose(val(mse(t, p, sample_weight=w)), per_sample * sw, rtol=1e-12)
    # (batch, 1) weights expand (batch,) losses to (batch, 1), as in Keras
    np.testing.assert_allclose(val(mse(t, p, sample_weight=sw[:, None])),
                               (per_sample * sw)[:, None], rtol=1e-12)
    assert float(losses.MeanSquaredError()(t, p, sample_weight=2.0)) == pytest.approx(
        2 * per_sample.mean(), rel=1e-12
    )
    # per-element weights for per-element losses (e.g. a sequence), and (batch,) weights on them
    t3, p3 = u(2, 5, 3), u(2, 5, 3)
    per_step = REF["mean_squared_error"](t3, p3)  # (2, 5)
    w_elem = rng.uniform(0, 2, (2, 5))
    got = losses.MeanSquaredError()(t3, p3, sample_weight=w_elem)
    assert float(got) == pytest.approx((per_step * w_elem).sum() / 10, rel=1e-12)
    got = losses.MeanSquaredError()(t3, p3, sample_weight=np.array([1.0, 3.0]))
    assert float(got) == pytest.approx((per_step * [[1.0], [3.0]]).sum() / 10, rel=1e-12)
    with pytest.raises(ValueError) as e:
        losses.MeanSquaredError()(t, p, sample_weight=np.ones(5))
    assert str(e.value) == (
        "sample_weight must have one weight per sample (or broadcast to) the per-sample losses "
        "of shape (4,). Received: sample_weight.shape=(5,)"
    )


def test_empty_batch_and_zero_weights_give_zero_not_nan():
    empty = losses.MeanSquaredError()(np.zeros((0, 3)), np.zeros((0, 3)))
    assert empty.shape == (0,)
    mws = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert float(mws(u(3, 2), u(3, 2), sample_weight=np.zeros(3))) == 0.0


def test_reduction_validation():
    assert losses.Loss(reduction="auto").reduction == "sum_over_batch_size"
    assert losses.MeanSquaredError(reduction=losses.Reduction.SUM).reduction == "sum"
    with pytest.raises(ValueError) as e:
        losses.MeanSquaredError(reduction="avg")
    assert str(e.value) == (
        "Invalid value for argument reduction. Expected one of 'sum_over_batch_size', 'sum', "
        "'mean', 'mean_with_sample_weight', 'none' or None. Received: reduction='avg'"
    )


def test_dtype_follows_y_pred_or_the_loss_dtype():
    t, p = u(3, 2), u(3, 2)
    assert losses.mse(t, p).dtype == np.float64
    assert losses.mse(t, p.astype(np.float32)).dtype == np.float32
    assert losses.MeanSquaredError()(t, cr.Tensor(p.astype(np.float32))).dtype == np.float32
    assert losses.MeanSquaredError(dtype="float32")(t, p).dtype == np.float32
    assert losses.mse([[1, 2]], [[1, 4]]).dtype == np.float32  # integers become floatx
    with pytest.raises(ValueError) as e:
        losses.MeanSquaredError(dtype="int32")
    assert str(e.value) == (
        "dtype must be a float type (float16, float32 or float64). Received: dtype='int32'"
    )


def test_rank_alignment_as_keras():
    t = np.array([1.0, 2.0, 3.0])
    p = np.array([[1.5], [2.0], [2.0]])
    np.testing.assert_allclose(val(losses.mse(t, p)), [0.25, 0.0, 1.0])  # (n,) vs (n, 1)
    np.testing.assert_allclose(val(losses.mse(p, t)), [0.25, 0.0, 1.0])
    t2, p2 = u(2, 3), u(2, 3, 1)  # (n, d) vs (n, d, 1): the 1 is squeezed
    np.testing.assert_allclose(val(losses.mse(t2, p2)), REF["mean_squared_error"](t2, p2[..., 0]))


# -- the logits shortcut --------------------------------------------------------------


def test_softmax_and_sigmoid_outputs_carry_logits():
    x = cr.Tensor(u(2, 3), requires_grad=True)
    assert ops.softmax(x)._logits is x
    assert ops.softmax(x, axis=1)._logits is x
    assert getattr(ops.softmax(x, axis=0), "_logits", None) is None
    assert ops.sigmoid(x)._logits is x
    assert getattr(ops.tanh(x), "_logits", None) is None
    assert getattr(cr.Tensor([1.0]), "_logits", None) is None


@pytest.mark.parametrize("sparse", [False, True])
def test_softmax_crossentropy_gradient_is_exactly_p_minus_y(sparse):
    n, c = 8, 5
    labels = rng.integers(0, c, n)
    x = cr.Tensor(u(n, c), requires_grad=True)
    y_pred = ops.softmax(x)
    if sparse:
        loss = losses.SparseCategoricalCrossentropy()(labels, y_pred)
    else:
        loss = losses.CategoricalCrossentropy()(one_hot(labels, c), y_pred)
    loss.backward()
    p = np.exp(np_log_softmax(x.data))
    np.testing.assert_allclose(x.grad, (p - one_hot(labels, c)) / n, rtol=1e-12, atol=1e-16)
    # the fused op, not the division-clip-log chain, is on the tape (for integer labels it
    # also takes the batch mean, so it makes the loss itself)
    op = loss.creator if sparse else loss.creator.inputs[0].creator
    assert type(op).__name__ == "SoftmaxCrossEntropy"


def test_label_smoothing_through_the_shortcut():
    n, c, ls = 6, 4, 0.2
    labels = rng.integers(0, c, n)
    x = cr.Tensor(u(n, c), requires_grad=True)
    loss = losses.CategoricalCrossentropy(label_smoothing=ls)(one_hot(labels, c), ops.softmax(x))
    loss.backward()
    y = one_hot(labels, c) * (1 - ls) + ls / c
    p = np.exp(np_log_softmax(x.data))
    np.testing.assert_allclose(x.grad, (p - y) / n, rtol=1e-12, atol=1e-16)
    assert float(loss) == pytest.approx(ref_cce(one_hot(labels, c), x.data, True, ls).mean(), rel=1e-12)


def test_sigmoid_binary_crossentropy_gradient_is_exactly_p_minus_y():
    n, d = 6, 2
    t = rng.integers(0, 2, (n, d)).astype(float)
    x = cr.Tensor(u(n, d), requires_grad=True)
    loss = losses.BinaryCrossentropy()(t, ops.sigmoid(x))
    loss.backward()
    p = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(x.grad, (p - t) / (n * d), rtol=1e-12, atol=1e-16)
    # (n,) labels against an (n, 1) sigmoid output: labels are expanded, the shortcut stays
    x1 = cr.Tensor(u(n, 1), requires_grad=True)
    t1 = rng.integers(0, 2, n).astype(float)
    losses.BinaryCrossentropy()(t1, ops.sigmoid(x1)).backward()
    p1 = 1 / (1 + np.exp(-x1.data[:, 0]))
    np.testing.assert_allclose(x1.grad[:, 0], (p1 - t1) / n, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("kind", ["categorical", "sparse", "binary"])
def test_shortcut_equals_probability_path_for_moderate_logits(kind):
    n, c = 16, 4
    labels = rng.integers(0, c, n)
    z = u(n, c, low=-5, high=5)
    if kind == "binary":
        fn, y_true, act = losses.binary_crossentropy, rng.integers(0, 2, (n, c)), ops.sigmoid
    elif kind == "sparse":
        fn, y_true, act = losses.sparse_categorical_crossentropy, labels, ops.softmax
    else:
        fn, y_true, act = losses.categorical_crossentropy, one_hot(labels, c), ops.softmax
    x = cr.Tensor(z, requires_grad=True)
    fast = fn(y_true, act(x))
    fast.sum().backward()
    x2 = cr.Tensor(z, requires_grad=True)
    probs_only = act(x2) * 1.0  # a new tensor without _logits: the probability path
    assert getattr(probs_only, "_logits", None) is None
    slow = fn(y_true, probs_only)
    slow.sum().backward()
    np.testing.assert_allclose(val(fast), val(slow), rtol=1e-6)
    np.testing.assert_allclose(x.grad, x2.grad, rtol=1e-6, atol=1e-9)
    # also with float32 model outputs
    f32 = fn(y_true, act(cr.Tensor(z.astype(np.float32))))
    np.testing.assert_allclose(val(f32), val(slow), rtol=1e-5)


@pytest.mark.parametrize("kind", ["categorical", "sparse", "binary"])
def test_shortcut_is_finite_for_huge_logits(kind):
    z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    x = cr.Tensor(z, requires_grad=True)
    if kind == "binary":
        loss = losses.BinaryCrossentropy()(np.array([[1.0, 1.0], [1.0, 1.0]]), ops.sigmoid(x))
        want = 1000.0 / 2  # each row: one term ~0, one term 1000; mean over 2, then batch
    elif kind == "sparse":
        loss = losses.SparseCategoricalCrossentropy()(np.array([1, 1]), ops.softmax(x))
        want = (2000.0 + 0.0) / 2
    else:
        loss = losses.CategoricalCrossentropy()(np.array([[0.0, 1.0], [0.0, 1.0]]), ops.softmax(x))
        want = (2000.0 + 0.0) / 2
    loss.backward()
    assert np.isfinite(float(loss)) and np.all(np.isfinite(x.grad))
    assert float(loss) == pytest.approx(want, rel=1e-12)


def test_no_shortcut_for_the_wrong_activation():
    z = u(5, 2)
    y2 = one_hot(rng.integers(0, 2, 5), 2)
    # softmax output with binary_crossentropy: must stay on probabilities
    x = cr.Tensor(z, requires_grad=True)
    got = losses.binary_crossentropy(y2, ops.softmax(x))
    want = ref_bce(y2, np.exp(np_log_softmax(z)))
    np.testing.assert_allclose(val(got), want, rtol=1e-12)
    # sigmoid output with categorical_crossentropy: likewise
    got = losses.categorical_crossentropy(y2, ops.sigmoid(x))
    np.testing.assert_allclose(val(got), ref_cce(y2, 1 / (1 + np.exp(-z))), rtol=1e-12)
    # and off the tape (no creator to ask), the same answers
    with cr.no_grad():
        got = losses.binary_crossentropy(y2, ops.softmax(cr.Tensor(z)))
        np.testing.assert_allclose(val(got), want, rtol=1e-12)
        fast = losses.categorical_crossentropy(y2, ops.softmax(cr.Tensor(z * 1000)))
        assert np.all(np.isfinite(val(fast)))
        np.testing.assert_allclose(val(fast), ref_cce(y2, z * 1000, from_logits=True), rtol=1e-12)


def test_from_logits_true_on_a_softmax_output_warns_and_uses_the_logits():
    z = u(3, 4)
    labels = rng.integers(0, 4, 3)
    x = cr.Tensor(z, requires_grad=True)
    with pytest.warns(UserWarning, match="was produced by a softmax activation"):
        got = losses.sparse_categorical_crossentropy(labels, ops.softmax(x), from_logits=True)
    np.testing.assert_allclose(val(got), ref_scce(labels, z, True), rtol=1e-12)
    with pytest.warns(UserWarning, match="was produced by a sigmoid activation"):
        losses.binary_crossentropy(np.ones((3, 4)), ops.sigmoid(x), from_logits=True)


def test_one_class_categorical_crossentropy_warns():
    with pytest.warns(UserWarning, match="Consider using 'binary_crossentropy'"):
        got = losses.categorical_crossentropy(np.array([[1.0], [1.0]]), np.array([[0.3], [0.9]]))
    np.testing.assert_allclose(val(got), [-np.log(1 - EPS)] * 2, rtol=1e-6)


# -- label and shape validation -------------------------------------------------------


def test_one_hot_labels_to_sparse_loss():
    with pytest.raises(ValueError) as e:
        losses.sparse_categorical_crossentropy(one_hot(np.arange(32) % 10, 10), probs(32, 10))
    assert str(e.value) == (
        "sparse_categorical_crossentropy expects integer class labels of shape (batch,), "
        "received one-hot labels of shape (32, 10). Use loss=\"categorical_crossentropy\" or "
        "pass y.argmax(-1)."
    )
    with pytest.raises(ValueError, match="received one-hot labels of shape"):
        losses.SparseCategoricalCrossentropy()(one_hot(np.arange(4) % 3, 3), probs(4, 3))


def test_integer_labels_to_categorical_loss():
    for labels in (np.arange(32) % 10, (np.arange(32) % 10)[:, None]):
        with pytest.raises(ValueError) as e:
            losses.categorical_crossentropy(labels, probs(32, 10))
        assert str(e.value) == (
            "categorical_crossentropy expects one-hot labels of shape (32, 10), received integer "
            f"class labels of shape {labels.shape}. Use loss=\"sparse_categorical_crossentropy\" "
            "or convert the labels with chainrule.utils.to_categorical(y, num_classes=10)."
        )
    with pytest.raises(ValueError, match="received integer class labels"):
        losses.CategoricalCrossentropy()(np.array([0, 1]), probs(2, 3))


def test_labels_out_of_range():
    with pytest.raises(ValueError) as e:
        losses.sparse_categorical_crossentropy(np.array([0, 3, 1, 5, 3]), probs(5, 3))
    assert str(e.value) == (
        "sparse_categorical_crossentropy: class labels must be in [0, 3) for y_pred with 3 "
        "classes. Does the last layer have one unit per class, and do the labels start at 0? "
        "Received: labels outside that range: [3, 5]"
    )
    with pytest.raises(ValueError) as e:
        losses.sparse_categorical_crossentropy(np.array([0, -1]), probs(2, 3))
    assert str(e.value) == (
        "sparse_categorical_crossentropy: class labels must be in [0, 3) for y_pred with 3 "
        "classes. Received: labels outside that range: [-1]"
    )
    with pytest.raises(ValueError, match=r"must be in \[0, 3\).*\[7\]"):
        losses.sparse_categorical_crossentropy(np.array([0, 7]), u(2, 3), from_logits=True)


def test_non_integer_and_non_numeric_labels():
    with pytest.raises(ValueError) as e:
        losses.sparse_categorical_crossentropy(np.array([0.0, 1.5, np.nan]), probs(3, 3))
    assert str(e.value) == (
        "sparse_categorical_crossentropy expects integer class labels. Received: y_true of dtype "
        "float64 holding non-integer values such as [1.5, nan]. For one-hot or probability labels "
        "use loss=\"categorical_crossentropy\"."
    )
    with pytest.raises(TypeError) as e:
        losses.sparse_categorical_crossentropy(np.array(["a", "b"]), probs(2, 3))
    assert str(e.value) == (
        "sparse_categorical_crossentropy expects integer class labels. Received: y_true of dtype <U1"
    )


def test_sparse_label_shape_mismatch():
    with pytest.raises(ValueError) as e:
        losses.sparse_categorical_crossentropy(np.array([0, 1, 2]), probs(4, 3))
    assert str(e.value) == (
        "sparse_categorical_crossentropy: y_true needs one class index per sample, shape (4,), "
        "for y_pred of shape (4, 3). Received: y_true.shape=(3,)"
    )


@pytest.mark.parametrize(
    "name", REGRESSION + ["binary_crossentropy", "categorical_crossentropy"]
)
def test_shape_mismatch_names_both_shapes(name):
    with pytest.raises(ValueError) as e:
        getattr(losses, name)(np.ones((32, 3)), np.full((32, 2), 0.5))
    # the elementwise losses broadcast as in Keras (tests/test_broadcast_targets.py), so
    # they refuse only shapes that do not broadcast; the cross-entropies need equal shapes
    need = "the same shape" if name.endswith("crossentropy") else (
        "the same shape or shapes that broadcast together (after a trailing axis of length 1 "
        "is squeezed or added)")
    assert str(e.value) == (
        f"{name}: y_true and y_pred must have {need}. "
        "Received: y_true.shape=(32, 3), y_pred.shape=(32, 2)"
    )


def test_argument_validation():
    with pytest.raises(ValueError) as e:
        losses.BinaryCrossentropy(label_smoothing=1.5)
    assert str(e.value) == "label_smoothing must be a number in [0, 1]. Received: label_smoothing=1.5"
    with pytest.raises(ValueError, match=r"Received: label_smoothing=-0\.1"):
        losses.categorical_crossentropy(probs(2, 2), probs(2, 2), label_smoothing=-0.1)
    with pytest.raises(ValueError) as e:
        losses.Huber(delta=0)
    assert str(e.value) == "delta must be a positive number. Received: delta=0"
    with pytest.raises(ValueError) as e:
        losses.categorical_crossentropy(probs(2, 2), probs(2, 2), axis=True)
    assert str(e.value) == "categorical_crossentropy: axis must be an integer. Received: axis=True"
    with pytest.raises(ValueError) as e:
        losses.sparse_categorical_crossentropy([0, 1], probs(2, 2), axis=2)
    assert str(e.value) == (
        "sparse_categorical_crossentropy: axis 2 is out of range for y_pred with 2 dimensions. "
        "Received: axis=2"
    )
    with pytest.raises(ValueError) as e:
        losses.SparseCategoricalCrossentropy(ignore_class=0.5)
    assert str(e.value) == "ignore_class must be an integer or None. Received: ignore_class=0.5"
    with pytest.raises(TypeError) as e:
        losses.LossFunctionWrapper(3)
    assert str(e.value) == "fn must be a function. Received: fn=3"


# -- Loss subclasses, wrappers and the registry ---------------------------------------------


def test_custom_loss_subclass():
    class MeanCubedError(losses.Loss):
        def call(self, y_true, y_pred):
            return ops.mean(ops.abs(y_pred - y_true) ** 3, axis=-1)

    loss = MeanCubedError()
    assert loss.name == "mean_cubed_error"
    t, p = u(4, 2), u(4, 2)
    assert float(loss(t, p)) == pytest.approx(np.mean(np.abs(p - t) ** 3), rel=1e-12)
    assert float(MeanCubedError(reduction="sum")(t, p)) == pytest.approx(
        np.abs(p - t).__pow__(3).mean(-1).sum(), rel=1e-12
    )
    with pytest.raises(NotImplementedError, match="must implement call"):
        losses.Loss()(t, p)


def test_function_wrapper_and_config_round_trip():
    def my_loss(y_true, y_pred, power=2.0):
        return ops.mean(ops.abs(y_pred - y_true) ** power, axis=-1)

    wrapped = losses.LossFunctionWrapper(my_loss, reduction="sum", power=3.0)
    assert wrapped.name == "my_loss"
    t, p = u(3, 2), u(3, 1)
    p2 = np.repeat(p, 2, axis=1)
    assert float(wrapped(t, p2)) == pytest.approx((np.abs(p2 - t) ** 3).mean(-1).sum(), rel=1e-12)
    # ranks are aligned for user functions, as Keras does: (n,) vs (n, 1)
    assert float(wrapped(t[:, 0], p)) == pytest.approx((np.abs(p[:, 0] - t[:, 0]) ** 3).sum(), rel=1e-12)
    config = wrapped.get_config()
    assert config == {
        "name": "my_loss", "reduction": "sum", "power": 3.0,
        "fn": {"module": "chainrule.losses", "class_name": "function", "config": "my_loss",
               "registered_name": "my_loss"},
    }
    back = losses.deserialize(losses.serialize(wrapped), custom_objects={"my_loss": my_loss})
    assert float(back(t, p2)) == float(wrapped(t, p2))
    builtin = losses.LossFunctionWrapper(losses.huber, delta=0.5)
    back = losses.deserialize(json.loads(json.dumps(losses.serialize(builtin))))
    assert back.fn is losses.huber and back._fn_kwargs == {"delta": 0.5}


CONFIGURED = [
    losses.MeanSquaredError(reduction="sum", name="m"),
    losses.MeanAbsoluteError(),
    losses.MeanAbsolutePercentageError(),
    losses.MeanSquaredLogarithmicError(reduction=None),
    losses.CosineSimilarity(axis=0),
    losses.Huber(delta=2.5),
    losses.LogCosh(),
    losses.Hinge(),
    losses.SquaredHinge(),
    losses.CategoricalHinge(),
    losses.KLDivergence(),
    losses.Poisson(reduction="mean_with_sample_weight"),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, axis=-1),
    losses.CategoricalCrossentropy(label_smoothing=0.2, reduction="sum"),
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1),
]


@pytest.mark.parametrize("loss", CONFIGURED, ids=lambda x: type(x).__name__)
def test_serialize_round_trip(loss):
    config = json.loads(json.dumps(losses.serialize(loss)))
    assert config["class_name"] == type(loss).__name__
    back = losses.deserialize(config)
    assert type(back) is type(loss)
    assert back.get_config() == loss.get_config()
    assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()
    assert losses.get(config).get_config() == loss.get_config()


def test_keras_config_keys():
    assert losses.MeanSquaredError().get_config() == {
        "name": "mean_squared_error", "reduction": "sum_over_batch_size"}
    assert losses.Huber().get_config() == {
        "name": "huber_loss", "reduction": "sum_over_batch_size", "delta": 1.0}
    assert losses.CategoricalCrossentropy().get_config() == {
        "name": "categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.0, "axis": -1}
    assert losses.SparseCategoricalCrossentropy().get_config() == {
        "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "ignore_class": None, "axis": -1}
    assert losses.CosineSimilarity().get_config() == {
        "name": "cosine_similarity", "reduction": "sum_over_batch_size", "axis": -1}
    assert losses.MeanSquaredError(dtype="float64").get_config()["dtype"] == "float64"


@pytest.mark.parametrize(
    "name, fn",
    [
        ("mse", losses.mean_squared_error), ("MSE", losses.mean_squared_error),
        ("mae", losses.mean_absolute_error), ("mape", losses.mean_absolute_percentage_error),
        ("msle", losses.mean_squared_logarithmic_error), ("kld", losses.kl_divergence),
        ("bce", losses.binary_crossentropy), ("logcosh", losses.log_cosh),
        ("categorical_crossentropy", losses.categorical_crossentropy),
        ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy),
        ("Binary_Crossentropy", losses.binary_crossentropy),
        ("huber", losses.huber), ("hinge", losses.hinge), ("squared_hinge", losses.squared_hinge),
        ("categorical_hinge", losses.categorical_hinge), ("poisson", losses.poisson),
        ("cosine_similarity", losses.cosine_similarity),
    ],
)
def test_get_by_name(name, fn):
    assert losses.get(name) is fn
    assert losses.deserialize(name) is fn
    assert losses.deserialize(losses.serialize(fn)) is fn


def test_aliases_are_the_functions():
    assert losses.mse is losses.mean_squared_error
    assert losses.mae is losses.mean_absolute_error
    assert losses.mape is losses.mean_absolute_percentage_error
    assert losses.msle is losses.mean_squared_logarithmic_error
    assert losses.kld is losses.kl_divergence


def test_get_other_identifiers():
    assert losses.get(None) is None
    inst = losses.Huber()
    assert losses.get(inst) is inst
    assert isinstance(losses.get("CategoricalCrossentropy"), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.Poisson), losses.Poisson)
    fn = lambda t, p: ops.mean(p - t)
    assert losses.get(fn) is fn
    got = losses.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(got, losses.CategoricalCrossentropy) and got.from_logits
    with pytest.raises(TypeError) as e:
        losses.get(3)
    assert str(e.value) == (
        "Could not interpret loss identifier: expected None, a name, a config dict, a Loss or a "
        "function. Received: identifier=3"
    )


def test_unknown_names():
    with pytest.raises(ValueError) as e:
        losses.get("msee")
    assert str(e.value).startswith("Unknown loss: 'msee'. Did you mean 'mse'")
    assert "Known: bce, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy," in str(
        e.value
    )
    with pytest.raises(ValueError) as e:
        losses.get("Loss")  # the abstract base cannot be made from a string
    assert str(e.value).startswith("Unknown loss: 'Loss'.")
    with pytest.raises(ValueError) as e:
        losses.deserialize({"class_name": "MeanSquareError", "config": {}})
    assert str(e.value).startswith(
        "Unknown loss class: 'MeanSquareError'. Did you mean 'MeanSquaredError'"
    )
    with pytest.raises(ValueError, match="Unknown loss: 'my_loss'"):
        losses.deserialize({"class_name": "function", "config": "my_loss"})
    with pytest.raises(TypeError) as e:
        losses.deserialize([1])
    assert str(e.value) == (
        "deserialize expects a dict with 'class_name' and 'config' keys. Received: config=[1]"
    )
    with pytest.raises(TypeError) as e:
        losses.serialize(lambda t, p: t)
    assert str(e.value).startswith("serialize expects a Loss or a named loss function.")


def test_repr():
    assert repr(losses.MeanSquaredError()) == (
        "<MeanSquaredError name=mean_squared_error reduction=sum_over_batch_size>"
    )
    assert repr(losses.Huber(delta=2.0)) == "<Huber name=huber_loss reduction=sum_over_batch_size delta=2.0>"


# -- check_targets: the whole label array, once, before training ---------------------


def test_check_targets_accepts_good_targets():
    y = np.arange(100) % 10
    for loss in ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy,
                 losses.SparseCategoricalCrossentropy(),
                 losses.LossFunctionWrapper(losses.sparse_categorical_crossentropy)):
        assert losses.check_targets(loss, y, (2, 10)) is None
        assert losses.check_targets(loss, y[:, None].astype(float), (2, 10)) is None
    assert losses.check_targets("categorical_crossentropy", one_hot(y, 10), (2, 10)) is None
    assert losses.check_targets("mse", np.zeros(100), (2, 1)) is None
    assert losses.check_targets(losses.MeanSquaredError(), np.zeros((100, 3)), (2, 3)) is None
    # losses of your own are not checked
    assert losses.check_targets(lambda t, p: t, np.zeros((5, 7)), (2, 3)) is None


def test_check_targets_sees_every_label():
    y = np.zeros(1000, dtype=int)
    y[-1] = 10  # only in the last batch
    with pytest.raises(ValueError) as e:
        losses.check_targets(losses.SparseCategoricalCrossentropy(), y, (2, 10))
    assert str(e.value).endswith("Received: labels outside that range: [10]")
    y[-1] = 255
    assert losses.check_targets(losses.SparseCategoricalCrossentropy(ignore_class=255), y,
                                (2, 10)) is None


def test_check_targets_messages_match_the_losses():
    with pytest.raises(ValueError) as e:
        losses.check_targets("sparse_categorical_crossentropy", one_hot(np.arange(32) % 10, 10),
                             (2, 10))
    assert str(e.value).startswith(
        "sparse_categorical_crossentropy expects integer class labels of shape (batch,), "
        "received one-hot labels of shape (32, 10)."
    )
    with pytest.raises(ValueError) as e:
        losses.check_targets(losses.CategoricalCrossentropy(), np.arange(32) % 10, (2, 10))
    assert str(e.value).startswith(
        "categorical_crossentropy expects one-hot labels of shape (32, 10), received integer "
        "class labels of shape (32,)."
    )
    losses.check_targets("mse", np.zeros((32, 3)), (2, 1))  # broadcasts, as in Keras
    with pytest.raises(ValueError) as e:
        losses.check_targets("mse", np.zeros((32, 3)), (2, 2))
    assert str(e.value) == (
        "mean_squared_error: y_true and y_pred must have the same shape or shapes that "
        "broadcast together (after a trailing axis of length 1 is squeezed or added). "
        "Received: y_true.shape=(32, 3), y_pred.shape=(32, 2)"
    )


def test_a_users_loss_function_gets_targets_of_any_shape_as_in_keras():
    """Keras checks no shapes for a loss of the user's own: integer labels of shape (n, 1)
    against 3 outputs reach the function as they are."""
    from chainrule import ops

    def my_loss(y_true, y_pred):
        y = ops.one_hot(ops.cast(ops.squeeze(y_true, -1), "int32"), 3)
        return ops.mean(ops.square(y - y_pred), axis=-1)

    cr.utils.set_random_seed(0)
    model = cr.models.Sequential([cr.layers.Input((4,)), cr.layers.Dense(3, activation="softmax")])
    model.compile("sgd", loss=my_loss)
    x = np.random.default_rng(0).random((20, 4)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 3, (20, 1))
    expected = np.mean((np.eye(3)[y[:, 0]] - model.predict(x, verbose=0)) ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-6)
    model.fit(x, y, epochs=1, verbose=0)


def test_the_labels_op_fast_path_still_refuses_labels_out_of_range():
    # integer labels of the expected shape take a shortcut; any label outside [0, classes)
    # still gets the full check's message (negative ones are huge as unsigned integers)
    from chainrule.losses import _SparseLabels

    op = _SparseLabels((4, 3), 1)
    good = np.array([0, 2, 1, 0], dtype=np.intp)
    assert op.forward(good) is good
    for bad in ([0, 3, 1, 0], [0, -1, 1, 0]):
        with pytest.raises(ValueError, match=r"class labels must be in \[0, 3\)"):
            op.forward(np.array(bad, dtype=np.intp))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(8, 3), (4, 5, 2), (6, 1)])
def test_mean_squared_error_as_one_op_gives_the_numbers_of_the_two_ops(dtype, shape):
    # the default reduction of an unweighted MSE runs as one op; its value and both
    # gradients are bit-identical to the per-sample op followed by ops.mean
    from chainrule.ops.nn import MeanSquaredDifference

    rng = np.random.default_rng(3)
    a0, b0 = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    results = []
    for fused in (True, False):
        a, b = cr.Tensor(a0, requires_grad=True), cr.Tensor(b0, requires_grad=True)
        loss = (MeanSquaredDifference(mean=True)(a, b) if fused
                else ops.mean(ops.mean_squared_difference(a, b)))
        loss.backward()
        results.append((loss.data, a.grad, b.grad))
    for x, y in zip(*results):
        np.testing.assert_array_equal(x, y)
        assert np.asarray(x).dtype == np.dtype(dtype)
    t = rng.standard_normal(shape)
    r = check_gradients(lambda p: MeanSquaredDifference(mean=True)(cr.Tensor(t), p),
                        rng.standard_normal(shape))
    assert r.ok, r


def test_compiled_mse_uses_one_op_and_weighted_mse_keeps_the_general_path():
    y_true, y_pred = np.array([[1.0], [2.0]], np.float32), np.array([[0.5], [1.0]], np.float32)
    loss = losses.MeanSquaredError()
    out = loss(y_true, cr.Tensor(y_pred, requires_grad=True))
    assert type(out.creator).__name__ == "MeanSquaredDifference" and out.creator.mean
    assert float(out.data) == pytest.approx(0.625)
    weighted = loss(y_true, cr.Tensor(y_pred, requires_grad=True), sample_weight=[1.0, 0.0])
    assert type(weighted.creator).__name__ != "MeanSquaredDifference"
    assert float(weighted.data) == pytest.approx(0.125)
