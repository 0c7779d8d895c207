"""Tests of course_lib.images (discrete gradient, divergence, TV; TV denoising against a generic
solver and its duality gap, TV inpainting) and course_lib.data.photo."""
import numpy as np
import pytest

from course_lib import data, images, splitting


def test_div_is_minus_the_adjoint_of_grad():
    rng = np.random.default_rng(0)
    for shape in [(7, 5), (1, 6), (4, 1), (1, 1)]:
        u, p = rng.standard_normal(shape), rng.standard_normal((2,) + shape)
        assert abs(np.sum(images.grad(u) * p) + np.sum(u * images.div(p))) < 1e-12


def test_grad_matrix_and_norm_bound():
    # build grad as a matrix column by column and compare with numpy's diff; ||grad||^2 < 8
    m, n = 6, 5
    G = np.stack([images.grad(e.reshape(m, n)).ravel() for e in np.eye(m * n)], axis=1)
    u = np.random.default_rng(1).standard_normal((m, n))
    expected = np.stack([np.diff(u, axis=0, append=u[-1:, :]), np.diff(u, axis=1, append=u[:, -1:])])
    np.testing.assert_allclose((G @ u.ravel()).reshape(2, m, n), expected, atol=1e-14)
    assert np.linalg.norm(G, 2) ** 2 <= images.grad_norm_bound
    D = np.stack([images.div(e.reshape(2, m, n)).ravel() for e in np.eye(2 * m * n)], axis=1)
    np.testing.assert_allclose(D, -G.T, atol=1e-14)


def test_tv_norm_closed_forms():
    ramp = np.outer(np.ones(4), np.arange(5.0))             # horizontal slope 1: TV = 4 rows x 4 steps
    assert images.tv_norm(ramp) == pytest.approx(16.0)
    assert images.tv_norm(np.full((3, 3), 2.5)) == 0.0
    diag = np.add.outer(np.arange(3.0), np.arange(3.0))     # slope 1 both ways: sqrt(2) inside
    assert images.tv_norm(diag) == pytest.approx(4 * np.sqrt(2) + 2 + 2)
    step = np.zeros((4, 6))
    step[:, 3:] = 1.0                                        # a vertical edge of length 4, jump 1
    assert images.tv_norm(step) == pytest.approx(4.0)
    np.testing.assert_allclose(images.pixel_norms(np.stack([np.full((2, 2), 3.0), np.full((2, 2), 4.0)])), 5.0)


def test_photo_crop():
    u = data.photo()
    assert u.shape == (128, 128) and 0 <= u.min() and u.max() <= 1 and u.std() > 0.1
    v = data.photo("flower.jpg", top=100, left=200, size=64, factor=1)
    assert v.shape == (64, 64)
    w = data.photo("flower.jpg", top=100, left=200, size=64, factor=4)
    np.testing.assert_allclose(w, v.reshape(16, 4, 16, 4).mean(axis=(1, 3)))


# ----------------------------------------------------------------------------- TV denoising and inpainting

def test_tv_denoise_gap_and_against_generic_solver():
    rng = np.random.default_rng(14)
    f = np.kron(np.array([[0.0, 1.0], [1.0, 0.0]]), np.ones((4, 4))) + 0.2 * rng.standard_normal((8, 8))
    lam = 0.15
    u, h = images.tv_denoise(f, lam, 20_000, tol=1e-9)
    assert h["gap"][-1] <= 1e-9
    assert np.all(h["gap"] >= -1e-15)
    # independent check: the primal problem by Chambolle-Pock with K = grad
    u_cp, _ = splitting.chambolle_pock(images.grad, lambda p: -images.div(p),
                                       lambda v, t: (v + t * f) / (1 + t),
                                       lambda q, s: images.project_pixel_ball(q, lam), 0.35, 0.35,
                                       5000, x0=f, tol=1e-10)
    np.testing.assert_allclose(u, u_cp, atol=1e-4)
    obj = 0.5 * np.sum((u - f) ** 2) + lam * images.tv_norm(u)
    obj_cp = 0.5 * np.sum((u_cp - f) ** 2) + lam * images.tv_norm(u_cp)
    assert obj <= obj_cp + 1e-9
    # a constant image is left unchanged (its TV is 0)
    u_c, _ = images.tv_denoise(np.full((4, 4), 0.3), 1.0, 10)
    np.testing.assert_allclose(u_c, 0.3, atol=1e-15)


def test_tv_inpaint_recovers_piecewise_constant():
    f = np.zeros((12, 12))
    f[:, 6:] = 1.0
    mask = np.ones_like(f, dtype=bool)
    mask[4:8, 1:5] = False              # a hole inside the dark half: filled with 0
    u, h = images.tv_inpaint(f, mask, 3000, tol=1e-10)
    np.testing.assert_allclose(u, f, atol=1e-6)
    assert np.all(u[mask] == f[mask])
    mask[4:8, 4:8] = False              # a hole across the edge: TV cannot beat the straight edge
    u, h = images.tv_inpaint(f, mask, 3000)
    assert np.all(u[mask] == f[mask])
    assert h["objective"][-1] == pytest.approx(images.tv_norm(f), rel=1e-4)


@pytest.mark.parametrize("call, name", [
    (lambda: images.grad(np.ones(3)), "u"),
    (lambda: images.grad(np.full((2, 2), np.nan)), "u"),
    (lambda: images.div(np.ones((3, 2, 2))), "p"),
    (lambda: images.pixel_norms(np.ones((2, 2))), "p"),
    (lambda: images.tv_norm(np.ones((2, 2, 2))), "u"),
    (lambda: images.tv_denoise(np.ones(3), 1.0), "f"),
    (lambda: images.tv_denoise(np.ones((3, 3)), 0.0), "lam"),
    (lambda: images.tv_inpaint(np.ones((3, 3)), np.ones((3, 3))), "mask"),
    (lambda: data.photo("lena.png"), "name"),
    (lambda: data.photo(top=400), "crop"),
    (lambda: data.photo(size=100, factor=3), "size"),
])
def test_bad_input_raises_value_error_naming_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
