"""Test problems shared by several test files."""
import numpy as np


def lasso_design(kind, rng):
    """A lasso test problem ``(A, y)``: tall, wide, or with duplicated columns."""
    if kind == "tall":
        A = rng.standard_normal((60, 15))
    elif kind == "wide":
        A = rng.standard_normal((30, 80))
    else:  # duplicated columns: the minimiser is not unique, the objective is
        B = rng.standard_normal((30, 40))
        A = np.hstack([B, B[:, :10]])
    x = np.zeros(A.shape[1])
    x[:5] = rng.standard_normal(5) * 2
    return A, A @ x + 0.1 * rng.standard_normal(A.shape[0])

