"""Benchmark: course_lib.lasso.lasso against scikit-learn's Lasso, side by side in one run.

Problem (the issue's target): a 200 x 1000 Gaussian design, y = A x_true + noise with a 10-sparse
x_true, and lam chosen so that the lasso solution has about 10 non-zeros.  scikit-learn minimises
(1 / (2 n)) ||y - A x||^2 + alpha ||x||_1, so alpha = lam / n gives the same minimiser.

Reported: median wall time over interleaved repeats of
  * scikit-learn, default tol (1e-4) and tight tol (1e-10),
  * course_lib.lasso.lasso with tol=1e-8 (relative duality gap) and its default tol=1e-10,
the relative objective difference against scikit-learn's tight solution, and the time ratios.
Target: ours reaches sklearn's objective to 1e-8 relative in at most 3x sklearn's time.

Run:  .venv/bin/python benchmarks/bench_lasso.py [--repeats 15] [--seed 0]
"""
import argparse
import time

import numpy as np
from sklearn.linear_model import Lasso

from course_lib import lasso


def problem(seed, n=200, p=1000, k=10, target_nnz=10):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    x_true = np.zeros(p)
    x_true[rng.choice(p, k, replace=False)] = rng.choice([-1.0, 1.0], k) * (1 + rng.random(k))
    y = A @ x_true + 0.5 * rng.standard_normal(n)
    # lam with ~target_nnz non-zeros: bisection on log(lam) (untimed)
    lo, hi = 1e-3 * np.abs(A.T @ y).max(), np.abs(A.T @ y).max()
    for _ in range(40):
        lam = np.sqrt(lo * hi)
        nnz = np.count_nonzero(lasso.lasso(A, y, lam))
        if nnz > target_nnz:
            lo = lam
        elif nnz < target_nnz:
            hi = lam
        else:
            break
    return A, y, lam


def timed(f, *args, **kw):
    t = time.perf_counter()
    out = f(*args, **kw)
    return time.perf_counter() - t, out


def sk_fit(A, y, lam, tol):
    model = Lasso(alpha=lam / A.shape[0], fit_intercept=False, tol=tol, max_iter=1_000_000)
    model.fit(A, y)
    return model.coef_.copy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    A, y, lam = problem(args.seed)
    obj = lambda x: lasso.lasso_objective(A, y, lam, x)  # noqa: E731
    runs = {"sklearn tol=1e-4": lambda: sk_fit(A, y, lam, 1e-4),
            "sklearn tol=1e-10": lambda: sk_fit(A, y, lam, 1e-10),
            "ours tol=1e-8": lambda: lasso.lasso(A, y, lam, tol=1e-8),
            "ours tol=1e-10": lambda: lasso.lasso(A, y, lam, tol=1e-10)}
    for f in runs.values():        # warm-up (imports, caches)
        f()
    times = {name: [] for name in runs}
    sols = {}
    for _ in range(args.repeats):  # interleaved, so that machine load hits all alike
        for name, f in runs.items():
            t, sols[name] = timed(f)
            times[name].append(t)
    med = {name: float(np.median(t)) for name, t in times.items()}
    ref = obj(sols["sklearn tol=1e-10"])
    print(f"problem: A {A.shape}, lam = {lam:.4g}, non-zeros: "
          + ", ".join(f"{name}: {np.count_nonzero(x)}" for name, x in sols.items()))
    print(f"{'solver':<20}{'median time':>14}{'objective':>24}{'rel. to sklearn(1e-10)':>26}")
    for name in runs:
        f = obj(sols[name])
        print(f"{name:<20}{med[name] * 1e3:>11.2f} ms{f:>24.15g}{(f - ref) / ref:>26.2e}")
    for ours in ("ours tol=1e-8", "ours tol=1e-10"):
        rel = (obj(sols[ours]) - ref) / ref
        print(f"{ours}: objective within {max(rel, 0):.1e} of sklearn's (target 1e-8: "
              f"{'met' if rel <= 1e-8 else 'NOT met'}); time ratio ours / sklearn(1e-10) = "
              f"{med[ours] / med['sklearn tol=1e-10']:.2f}, ours / sklearn(1e-4) = "
              f"{med[ours] / med['sklearn tol=1e-4']:.2f}  (target <= 3)")


if __name__ == "__main__":
    main()
