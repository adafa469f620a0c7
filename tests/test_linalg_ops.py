"""keras.ops.linalg in chainrule: each op against NumPy, float64 gradient checks (symmetric inputs
built as ``a @ a.T`` where the op reads one triangle), no gradient where Keras has none."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.gradcheck import check_gradients
from chainrule.ops import linalg

rng = np.random.default_rng(3)


def r(*shape):
    return rng.uniform(-1.0, 1.0, size=shape)


def well(*shape):
    """Well-conditioned square matrices: random plus a multiple of the identity."""
    return r(*shape) + 3 * np.eye(shape[-1])


def spd_from(a):
    return a @ np.swapaxes(a, -1, -2) + 3 * np.eye(a.shape[-1])


def sym(a):  # a symmetric matrix from any square one, as a composition of ops
    return (a + ops.swapaxes(a, -1, -2)) * 0.5


def spd(a):
    return a @ ops.swapaxes(a, -1, -2) + 3.0 * np.eye(a.shape[-1])


def sort_cols_sign(u):
    """Fix the sign of each singular/eigen vector (the largest entry positive)."""
    idx = np.argmax(np.abs(u), axis=-2)
    s = np.sign(np.take_along_axis(u, idx[..., None, :], -2))
    return u * s


DIFF = [
    ("det", linalg.det, [well(3, 3)], np.linalg.det),
    ("det_batch", linalg.det, [well(2, 3, 3)], np.linalg.det),
    ("inv", linalg.inv, [well(3, 3)], np.linalg.inv),
    ("inv_batch", linalg.inv, [well(2, 2, 2)], np.linalg.inv),
    ("solve_vector", linalg.solve, [well(3, 3), r(3)], np.linalg.solve),
    ("solve_matrix", linalg.solve, [well(3, 3), r(3, 2)], np.linalg.solve),
    ("solve_batch_broadcast_b", linalg.solve, [well(2, 3, 3), r(3, 2)], np.linalg.solve),
    ("solve_triangular_upper", linalg.solve_triangular, [well(3, 3), r(3, 2)],
     lambda a, b: np.linalg.solve(np.triu(a), b)),
    ("solve_triangular_lower", lambda a, b: linalg.solve_triangular(a, b, lower=True),
     [well(3, 3), r(3)], lambda a, b: np.linalg.solve(np.tril(a), b)),
    ("solve_triangular_batch_vectors", lambda a, b: linalg.solve_triangular(a, b, lower=True),
     [well(2, 3, 3), r(2, 3)],
     lambda a, b: np.linalg.solve(np.tril(a), b[..., None])[..., 0]),
    ("cholesky", lambda a: linalg.cholesky(spd(a)), [r(3, 3)],
     lambda a: np.linalg.cholesky(spd_from(a))),
    ("cholesky_upper_batch", lambda a: linalg.cholesky(spd(a), upper=True), [r(2, 3, 3)],
     lambda a: np.swapaxes(np.linalg.cholesky(spd_from(a)), -1, -2)),
    ("cholesky_inverse", linalg.cholesky_inverse, [np.tril(well(3, 3))],
     lambda f: np.linalg.inv(f @ f.T)),
    ("cholesky_inverse_upper", lambda f: linalg.cholesky_inverse(f, upper=True),
     [np.triu(well(3, 3))], lambda f: np.linalg.inv(f.T @ f)),
    ("qr_q", lambda a: linalg.qr(a)[0], [r(4, 3)], lambda a: np.linalg.qr(a)[0]),
    ("qr_r", lambda a: linalg.qr(a)[1], [r(4, 3)], lambda a: np.linalg.qr(a)[1]),
    ("qr_both_square_batch", lambda a: linalg.qr(a)[0] * 2.0 + linalg.qr(a)[1], [r(2, 3, 3)],
     lambda a: np.linalg.qr(a)[0] * 2 + np.linalg.qr(a)[1]),
    ("svd_s", lambda a: linalg.svd(a, compute_uv=False), [r(4, 3)],
     lambda a: np.linalg.svd(a, compute_uv=False)),
    ("svd_u_thin_tall", lambda a: sort_cols_sign_t(linalg.svd(a, full_matrices=False)[0]),
     [r(4, 3)], lambda a: sort_cols_sign(np.linalg.svd(a, full_matrices=False)[0])),
    ("svd_vh_thin_wide", lambda a: sort_cols_sign_t(ops.swapaxes(
        linalg.svd(a, full_matrices=False)[2], -1, -2)), [r(2, 4)],
     lambda a: sort_cols_sign(np.swapaxes(np.linalg.svd(a, full_matrices=False)[2], -1, -2))),
    ("svd_reconstruct_wide", lambda a: _usv(*linalg.svd(a, full_matrices=False)), [r(2, 3, 4)],
     lambda a: a),
    ("svd_square_full", lambda a: sort_cols_sign_t(linalg.svd(a)[0]) + linalg.svd(a)[1][0],
     [r(3, 3)], lambda a: sort_cols_sign(np.linalg.svd(a)[0]) + np.linalg.svd(a)[1][0]),
    ("eigh_w", lambda a: linalg.eigh(sym(a))[0], [r(4, 4)],
     lambda a: np.linalg.eigh((a + a.T) / 2)[0]),
    ("eigh_v", lambda a: sort_cols_sign_t(linalg.eigh(sym(a))[1]), [r(3, 3)],
     lambda a: sort_cols_sign(np.linalg.eigh((a + a.T) / 2)[1])),
    ("pinv_tall", linalg.pinv, [r(4, 3)], np.linalg.pinv),
    ("pinv_wide", linalg.pinv, [r(2, 4)], np.linalg.pinv),
    ("lstsq", linalg.lstsq, [r(5, 3), r(5)], lambda a, b: np.linalg.lstsq(a, b)[0]),
    ("lstsq_matrix", linalg.lstsq, [r(5, 3), r(5, 2)], lambda a, b: np.linalg.lstsq(a, b)[0]),
    ("slogdet", lambda a: ops.slogdet(a)[1], [r(3, 3)], lambda a: np.linalg.slogdet(a)[1]),
    ("logdet", lambda a: ops.logdet(spd(a)), [r(3, 3)],
     lambda a: np.linalg.slogdet(spd_from(a))[1]),
    ("matrix_power_3", lambda a: linalg.matrix_power(a, 3), [r(3, 3)],
     lambda a: np.linalg.matrix_power(a, 3)),
    ("matrix_power_neg2", lambda a: linalg.matrix_power(a, -2), [well(3, 3)],
     lambda a: np.linalg.matrix_power(a, -2)),
    ("norm", lambda a: linalg.norm(a, ord="fro"), [r(3, 3)],
     lambda a: np.linalg.norm(a, "fro")),
    ("norm_nuc", lambda a: linalg.norm(a, ord="nuc"), [r(3, 4)],
     lambda a: np.linalg.norm(a, "nuc")),
    ("norm_2_axes_keepdims", lambda a: linalg.norm(a, ord=2, axis=(2, 0), keepdims=True),
     [r(3, 2, 4)], lambda a: np.linalg.norm(a, 2, axis=(2, 0), keepdims=True)),
    ("norm_minus_2_batch", lambda a: linalg.norm(a, ord=-2, axis=(-2, -1)), [r(2, 3, 3)],
     lambda a: np.linalg.norm(a, -2, axis=(-2, -1))),
]


def sort_cols_sign_t(u):
    idx = np.argmax(np.abs(u.numpy()), axis=-2)
    s = np.sign(np.take_along_axis(u.numpy(), idx[..., None, :], -2))
    return u * s  # the signs are constants: the gradient flows through u


def _usv(u, s, vh):
    return (u * ops.expand_dims(s, -2)) @ vh


@pytest.mark.parametrize("name,fn,inputs,ref", DIFF, ids=[c[0] for c in DIFF])
def test_forward_matches_numpy_and_gradient_checks(name, fn, inputs, ref):
    got = fn(*[cr.Tensor(x) for x in inputs])
    np.testing.assert_allclose(got.numpy(), ref(*inputs), rtol=1e-9, atol=1e-10)
    result = check_gradients(fn, *inputs, eps=1e-6, tolerance=1e-5)
    assert result.ok, f"{name}:\n{result}"


def test_top_level_and_linalg_namespace_are_the_same_functions():
    for name in ["det", "inv", "solve", "solve_triangular", "cholesky", "cholesky_inverse",
                 "qr", "svd", "eigh", "eig", "lstsq", "pinv", "matrix_rank", "lu_factor"]:
        assert getattr(ops, name) is getattr(linalg, name), name
    assert linalg.norm is ops.norm.__wrapped_op__  # the library's own linalg ops stay raw


def test_eig_has_no_gradient_and_matches_numpy():
    a = well(3, 3)
    w, v = ops.eig(cr.Tensor(a, requires_grad=True))
    assert not w.requires_grad and not v.requires_grad
    np.testing.assert_allclose(np.sort_complex(w.numpy()), np.sort_complex(np.linalg.eig(a)[0]))
    # eigen-pairs: a v = v w
    np.testing.assert_allclose(a @ v.numpy(), v.numpy() * w.numpy(), atol=1e-10)


def test_a_zero_matrix_gives_nan_not_an_error_for_shape_dry_runs():
    assert np.isnan(ops.inv(np.zeros((2, 2))).numpy()).all()
    assert np.isnan(ops.solve(np.zeros((2, 2)), np.ones(2)).numpy()).all()
    assert np.isnan(ops.cholesky(np.zeros((2, 2))).numpy()).all()


def test_slogdet_sign_and_matrix_rank_carry_no_gradient():
    a = cr.Tensor(well(3, 3) * -1, requires_grad=True)
    sign, logabs = ops.slogdet(a)
    assert not sign.requires_grad and logabs.requires_grad
    assert float(sign) == np.linalg.slogdet(a.numpy())[0]
    assert int(ops.matrix_rank(np.diag([1.0, 0.0, 2.0]))) == 2
    assert int(ops.matrix_rank(np.diag([1.0, 0.1, 2.0]), tol=0.5)) == 2


def _lu_reference(a):
    """Doolittle with partial pivoting, written out row by row (SciPy's lu_factor's result)."""
    lu = a.astype(float).copy()
    n = lu.shape[0]
    piv = np.zeros(n, int)
    for j in range(n):
        p = j + int(np.argmax(np.abs(lu[j:, j])))
        piv[j] = p
        lu[[j, p]] = lu[[p, j]]
        for i in range(j + 1, n):
            lu[i, j] /= lu[j, j]
            lu[i, j + 1:] -= lu[i, j] * lu[j, j + 1:]
    return lu, piv


def test_lu_factor_reconstructs_the_matrix():
    a = r(4, 4)
    lu, piv = ops.lu_factor(a)
    want_lu, want_piv = _lu_reference(a)
    np.testing.assert_allclose(lu.numpy(), want_lu, atol=1e-12)
    np.testing.assert_array_equal(piv.numpy(), want_piv)
    assert piv.dtype == np.int32
    L = np.tril(lu.numpy(), -1) + np.eye(4)
    U = np.triu(lu.numpy())
    perm = np.arange(4)
    for i, p in enumerate(piv.numpy()):
        perm[[i, p]] = perm[[p, i]]
    np.testing.assert_allclose(a[perm], L @ U, atol=1e-12)
    batch = r(3, 3, 3)
    lub, pivb = ops.lu_factor(batch)
    for k in range(3):
        np.testing.assert_allclose(lub.numpy()[k], _lu_reference(batch[k])[0], atol=1e-12)
        np.testing.assert_array_equal(pivb.numpy()[k], _lu_reference(batch[k])[1])


def test_qr_complete_and_svd_full_forward_match_numpy():
    a = r(4, 2)
    q, rr = ops.qr(a, mode="complete")
    want_q, want_r = np.linalg.qr(a, mode="complete")
    np.testing.assert_allclose(q.numpy(), want_q)
    np.testing.assert_allclose(rr.numpy(), want_r)
    u, s, vh = ops.svd(a)
    assert u.shape == (4, 4) and s.shape == (2,) and vh.shape == (2, 2)
    x = cr.Tensor(a, requires_grad=True)
    with pytest.raises(NotImplementedError, match="svd: the gradient of u and vh needs "
                                                  "full_matrices=False"):
        ops.sum(ops.svd(x)[0]).backward()


def test_a_model_solving_a_linear_system_replays_its_step():
    class Solve(cr.layers.Layer):
        def build(self, input_shape):
            self.a = self.add_weight(shape=(3, 3), initializer="identity")

        def call(self, x):
            a = self.a + 2.0 * np.eye(3, dtype="float32")
            return ops.transpose(ops.solve(a, ops.transpose(x))) + ops.logdet(a)

    def make(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        m = cr.Sequential([cr.Input((3,)), Solve(), cr.layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse", jit_compile=jit)
        return m

    x = rng.standard_normal((32, 3)).astype("float32")
    y = rng.standard_normal((32, 1)).astype("float32")
    fast, slow = make(True), make(False)
    fast.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    slow.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("call,match", [
    (lambda: ops.det(np.zeros((2, 3))),
     r"det: x must be a square matrix or a stack of them, of shape \(\.\.\., n, n\)\. "
     r"Received: x of shape \(2, 3\)$"),
    (lambda: ops.inv(np.ones((2, 2))), r"inv: Singular matrix\. Received: a matrix"),
    (lambda: ops.solve(np.eye(3), np.zeros(2)),
     r"solve: b must have 3 rows to match a of shape \(3, 3\)\. Received: b of shape \(2,\)$"),
    (lambda: ops.cholesky(-np.eye(2)), r"cholesky: Matrix is not positive definite"),
    (lambda: ops.qr(np.zeros((2, 2)), mode="r"),
     r"qr: mode must be 'reduced' or 'complete'\. Received: mode='r'$"),
    (lambda: ops.lstsq(np.zeros((3, 2)), np.zeros(2)),
     r"lstsq: a must be a matrix \(m, n\) and b of shape \(m,\) or \(m, k\) with m=3\. "
     r"Received: a of shape \(3, 2\), b of shape \(2,\)$"),
    (lambda: ops.svd(np.zeros(3)),
     r"svd: x must be a matrix or a stack of them, of shape \(\.\.\., m, n\)\. "
     r"Received: x of shape \(3,\)$"),
    (lambda: linalg.matrix_power(np.eye(2), 1.5),
     r"matrix_power: n must be an integer\. Received: n=1\.5$"),
])
def test_bad_arguments_name_themselves(call, match):
    with pytest.raises(ValueError, match=match):
        call()
