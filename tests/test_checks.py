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
    with pytest.raises(AssertionError, match="g contains nan at coordinate 0 on test point 0"):
        checks.check_gradient(f, lambda x: np.full_like(x, np.nan), [np.ones(3)], name="g")
    with pytest.raises(AssertionError, match=r"J contains inf at coordinate \(0, 0\)"):
        checks.check_jacobian(lambda x: x, lambda x: np.full((2, 2), np.inf), [np.ones(2)], name="J")


# A wrong answer never gets a ✓ (issue 10): each case below printed ✓ before.
def test_decreasing_refuses_nan_iterates():
    with pytest.raises(checks.CheckFailed, match="is nan at iteration 2"):
        checks.check_decreasing([3.0, 2.0, np.nan, np.nan])
    with pytest.raises(checks.CheckFailed, match="is nan at iteration 1"):
        checks.check_decreasing([1.0, np.nan, 0.5])
    with pytest.raises(checks.CheckFailed, match="is inf at iteration 0"):
        checks.check_decreasing([np.inf, 1.0])


def test_complex_answers_fail():
    with pytest.raises(checks.CheckFailed, match=r"complex number at coordinate 0 \(1\+5j\)"):
        checks.check_close([1 + 5j, 2.0], [1.0, 2.0])
    with pytest.raises(checks.CheckFailed, match="grad returned a complex number at coordinate 0"):
        checks.check_gradient(lambda x: x @ x + x[0], lambda x: 2 * x + 1j, [np.ones(3)], name="grad")
    with pytest.raises(checks.CheckFailed, match="f returned a complex number"):
        checks.check_function(lambda x: x + 0j, lambda x: x, [np.ones(2)], name="f")


def test_a_non_finite_reference_is_not_a_match():
    with pytest.raises(checks.CheckFailed, match="expected value is nan at coordinate 1"):
        checks.check_close([1.0, 5.0], [1.0, np.nan])
    with pytest.raises(checks.CheckFailed, match="reference is nan at coordinate 0 on test input 0"):
        checks.check_function(lambda x: x, lambda x: np.full(2, np.nan), [np.ones(2)], name="f")


def test_gradient_outside_the_domain_fails():
    """Σ log x at negative points: finite differences are NaN, so nothing can be compared."""
    f = lambda x: np.sum(np.log(x))  # noqa: E731
    with np.errstate(invalid="ignore"), pytest.raises(checks.CheckFailed,
                                                      match="returned nan near test point 0"):
        checks.check_gradient(f, lambda x: 1 / x, [-np.ones(3)])
    with pytest.raises(checks.CheckFailed, match="the function returned a complex number at coordinate 0"):
        checks.check_jacobian(lambda x: x + 1j, lambda x: np.eye(2), [np.ones(2)], name="J")


@pytest.mark.parametrize("call", [
    lambda: checks.check_close(1.0, 1.0, rtol=np.nan),
    lambda: checks.check_close(1.0, 1.0, atol=-1.0),
    lambda: checks.check_function(np.sin, np.sin, [1.0], rtol=np.inf),
    lambda: checks.check_gradient(np.sum, np.ones_like, [np.ones(2)], h=np.nan),
    lambda: checks.check_gradient(np.sum, np.ones_like, [np.ones(2)], h=0.0),
    lambda: checks.check_jacobian(np.sin, lambda x: np.diag(np.cos(x)), [np.ones(2)], h=np.nan),
    lambda: checks.check_rate([1, 2, 4], [1, 0.5, 0.25], expected_slope=np.nan),
    lambda: checks.check_rate([1, 2, 4], [1, 0.5, 0.25], -1, tol=np.nan),
    lambda: checks.check_decreasing([2.0, 1.0], rtol=np.nan),
    lambda: checks.check_close(1.0, 1.0, rtol="1e-6"),
], ids=["rtol-nan", "atol-negative", "rtol-inf", "h-nan", "h-zero", "jac-h-nan", "slope-nan",
        "tol-nan", "decreasing-rtol-nan", "rtol-string"])
def test_bad_tolerances_are_refused(call):
    with pytest.raises(ValueError, match=r"^(rtol|atol|h|expected_slope|tol) must be"):
        call()


def test_nothing_to_compare_fails():
    wrong = lambda x: x + 1  # noqa: E731
    with pytest.raises(checks.CheckFailed, match="nothing to compare"):
        checks.check_function(wrong, lambda x: x, [])
    with pytest.raises(checks.CheckFailed, match="nothing to compare"):
        checks.check_gradient(np.sum, wrong, [])
    with pytest.raises(checks.CheckFailed, match="nothing to compare"):
        checks.check_jacobian(lambda x: x, wrong, [])
    with pytest.raises(checks.CheckFailed, match="nothing to compare"):
        checks.check_decreasing([])
    with pytest.raises(checks.CheckFailed, match="nothing to compare"):
        checks.check_decreasing([1.0])
    with pytest.raises(checks.CheckFailed, match="nothing to compare"):
        checks.check_close(np.zeros(0), np.zeros(0))
    with pytest.raises(checks.CheckFailed, match="nothing to compare"):
        checks.check_gradient(np.sum, np.ones_like, [np.zeros(0)])


def test_rate_of_non_positive_or_nan_errors_fails_with_feedback():
    with pytest.raises(checks.CheckFailed, match="is -0.5 at entry 1: a rate needs positive"):
        checks.check_rate([1, 2, 4], [1.0, -0.5, 0.25], -1)
    with pytest.raises(checks.CheckFailed, match="the error is nan at coordinate 2"):
        checks.check_rate([1, 2, 4], [1.0, 0.5, np.nan], -1)


def test_answers_that_are_not_numbers_fail_with_feedback():
    with pytest.raises(checks.CheckFailed, match="returned str"):
        checks.check_function(lambda x: "two", lambda x: 2.0, [1.0], name="f")
    with pytest.raises(checks.CheckFailed, match="returned None"):
        checks.check_gradient(np.sum, lambda x: None, [np.ones(2)], name="g")
