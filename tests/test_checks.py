"""course_lib.checks gives precise feedback: where the answer is wrong and by how much."""
import numpy as np
import pytest

from course_lib import checks


def test_check_function_passes_and_reports_the_coordinate(capsys):
    ref = lambda x: 2 * x  # noqa: E731
    checks.check_function(lambda x: 2 * x, ref, [np.arange(4.0), np.ones(4)], name="double")
    assert "✓ double agrees" in capsys.readouterr().out

    def wrong(x):
        y = 2 * x
        y[3] += 0.5
        return y

    with pytest.raises(AssertionError, match=r"double is wrong at coordinate 3 \(6.5 vs 6 expected\) on test input 0"):
        checks.check_function(wrong, ref, [np.arange(4.0)], name="double")


def test_check_function_catches_missing_return_and_shapes():
    with pytest.raises(AssertionError, match="returned None"):
        checks.check_function(lambda x: None, lambda x: x, [np.ones(2)], name="f")
    with pytest.raises(AssertionError, match=r"shape \(3,\), expected \(2,\)"):
        checks.check_function(lambda x: np.ones(3), lambda x: x, [np.ones(2)], name="f")


def test_check_gradient_against_finite_differences():
    f = lambda x: np.sum(x**3)  # noqa: E731
    checks.check_gradient(f, lambda x: 3 * x**2, [np.array([1.0, -2.0, 0.5])])
    with pytest.raises(AssertionError, match=r"at coordinate 1 \(-12 vs 12\)"):
        checks.check_gradient(f, lambda x: 3 * x * np.abs(x), [np.array([1.0, -2.0, 0.5])], name="g")


def test_check_gradient_on_matrices():
    f = lambda X: np.linalg.slogdet(X)[1]  # noqa: E731
    X = np.array([[2.0, 0.3], [0.1, 1.0]])
    checks.check_gradient(f, lambda X: np.linalg.inv(X).T, [X])
    with pytest.raises(AssertionError, match=r"coordinate \(0, 1\)"):
        checks.check_gradient(f, lambda X: np.linalg.inv(X), [X])


def test_check_jacobian():
    F = lambda x: np.array([x[0] * x[1], np.sin(x[0])])  # noqa: E731
    J = lambda x: np.array([[x[1], x[0]], [np.cos(x[0]), 0.0]])  # noqa: E731
    checks.check_jacobian(F, J, [np.array([0.3, 2.0])])
    with pytest.raises(AssertionError, match=r"entry \(1, 0\)"):
        checks.check_jacobian(F, lambda x: J(x) * np.array([[1, 1], [2, 1]]), [np.array([0.3, 2.0])])


def test_check_rate_and_decreasing():
    k = np.arange(1, 50.0)
    assert abs(checks.check_rate(k, 3 / k**2, -2) + 2) < 1e-12
    with pytest.raises(AssertionError, match=r"x\^-1.00, expected x\^-2.00"):
        checks.check_rate(k, 3 / k, -2)
    checks.check_decreasing([3, 2, 2, 1])
    with pytest.raises(AssertionError, match="increases at iteration 2"):
        checks.check_decreasing([3, 2, 2.5])


def test_check_close():
    checks.check_close(np.pi, np.pi)
    with pytest.raises(AssertionError, match=r"\(3 vs 3.14159 expected\)"):
        checks.check_close(3.0, np.pi, rtol=1e-3)


def test_non_finite_answers_are_reported():
    f = lambda x: np.sum(x**2)  # noqa: E731
    with pytest.raises(AssertionError, match="NaN or inf on test point 0"):
        checks.check_gradient(f, lambda x: np.full_like(x, np.nan), [np.ones(3)], name="g")
    with pytest.raises(AssertionError, match="NaN or inf"):
        checks.check_jacobian(lambda x: x, lambda x: np.full((2, 2), np.inf), [np.ones(2)], name="J")
