"""Benchmark: course_lib.ot against POT, side by side in one run, ratios printed.

Problems (the issue's targets), n = m = 2000 points in 2-D (x uniform in the unit square, y
Gaussian around its centre), squared Euclidean cost scaled to max 1, uniform weights:

  (i)   eps = 0.05: ``ot.sinkhorn`` (matrix scaling) with its default stopThr = 1e-9, then
        ``course_lib.ot.sinkhorn`` asked for the marginal error POT reached
        (``||P 1 - a||_1 + ||P^T 1 - b||_1``). Target: time ratio ours / POT <= 1.
  (ii)  eps = 0.002: ``ot.bregman.sinkhorn_log`` run until its column error is below
        1e-6 / sqrt(n) in l2 (so below 1e-6 in l1; its rows are exact), against ours with
        tol = 1e-6. Target: POT / ours >= 10. POT needs minutes here: it runs once.
  (iii) exact OT, n = m = 1000: ``ot.emd`` (network simplex) against ``course_lib.ot.emd``
        (an assignment problem: Birkhoff). Target: ours / POT <= 3, with equal costs.

Both libraries run on one thread (OMP / OpenBLAS threads set to 1 before NumPy loads), the
order is interleaved, and the median CPU time (process_time) and wall time of the repeats are
reported; the ratios use CPU time, which the load of other processes inflates less.

Run:  .venv/bin/python benchmarks/bench_ot.py [--repeats 5] [--n 2000] [--skip-log]
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import ot as pot  # noqa: E402

from course_lib import ot as O  # noqa: E402


def clouds(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2))
    y = 0.5 + 0.2 * rng.standard_normal((n, 2))
    C = O.cost_matrix(x, y)
    return C / C.max(), np.full(n, 1.0 / n)


def timed(f):
    w, c = time.perf_counter(), time.process_time()
    out = f()
    return time.process_time() - c, time.perf_counter() - w, out


def compare(runs, repeats):
    """Interleaved repeats of each run: {name: (median cpu, median wall, last output)}."""
    for f in runs.values():                                # warm-up
        f()
    times = {name: [] for name in runs}
    outs = {}
    for _ in range(repeats):
        for name, f in runs.items():
            cpu, wall, outs[name] = timed(f)
            times[name].append((cpu, wall))
    return {name: (*np.median(np.array(t), axis=0), outs[name]) for name, t in times.items()}


def row(name, cpu, wall, extra=""):
    print(f"  {name:<34}{cpu:>10.3f} s{wall:>10.3f} s   {extra}")


def bench_i(n, repeats):
    C, a = clouds(n)
    eps = 0.05
    P_ref = pot.sinkhorn(a, a, C, eps)
    tol = O.marginal_error(P_ref, a, a)
    res = compare({"POT ot.sinkhorn (stopThr=1e-9)": lambda: pot.sinkhorn(a, a, C, eps),
                   f"ours sinkhorn (tol={tol:.1e})": lambda: O.sinkhorn(a, a, C, eps, tol=tol)},
                  repeats)
    print(f"(i) n = m = {n}, eps = {eps}; median of {repeats}:{'cpu':>12}{'wall':>12}")
    (c1, w1, P1), (c2, w2, P2) = res.values()
    for (name, (c, w, P)) in res.items():
        row(name, c, w, f"marginal error {O.marginal_error(P, a, a):.2e}")
    print(f"  max |P_ours - P_POT| = {np.abs(P1 - P2).max():.1e}"
          f"   ratio ours / POT = {c2 / c1:.2f}  (target <= 1)\n")
    return c2 / c1


def bench_ii(n, skip_pot):
    C, a = clouds(n)
    eps, tol = 0.002, 1e-6
    cpu2, wall2, (f, g, info) = timed(
        lambda: O.sinkhorn_potentials(a, a, C, eps, tol=tol, return_info=True))
    print(f"(ii) n = m = {n}, eps = {eps}, marginal error <= {tol:g}; one run each:")
    row("ours sinkhorn (tol=1e-6)", cpu2, wall2,
        f"marginal error {O.marginal_error(info['plan'], a, a):.2e}, "
        f"{info['iterations']} iterations")
    if skip_pot:
        print("  POT skipped (--skip-log)\n")
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu1, wall1, (P1, log) = timed(lambda: pot.bregman.sinkhorn_log(
            a, a, C, eps, stopThr=tol / np.sqrt(n), numItermax=100_000, log=True))
    row("POT sinkhorn_log", cpu1, wall1,
        f"marginal error {O.marginal_error(P1, a, a):.2e}, {log['niter'] + 1} iterations")
    print(f"  max |P_ours - P_POT| = {np.abs(info['plan'] - P1).max():.1e}"
          f"   ratio POT / ours = {cpu1 / cpu2:.1f}  (target >= 10)\n")
    return cpu1 / cpu2


def bench_iii(repeats, n=1000):
    C, a = clouds(n, seed=1)
    res = compare({"POT ot.emd": lambda: pot.emd(a, a, C),
                   "ours emd": lambda: O.emd(a, a, C)}, repeats)
    print(f"(iii) exact OT, n = m = {n}, uniform weights; median of {repeats}:")
    for name, (c, w, P) in res.items():
        row(name, c, w, f"cost {(P * C).sum():.12f}")
    (c1, _, P1), (c2, _, P2) = res.values()
    print(f"  cost difference {abs((P1 * C).sum() - (P2 * C).sum()):.1e}"
          f"   ratio ours / POT = {c2 / c1:.2f}  (target <= 3)\n")
    return c2 / c1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--skip-log", action="store_true", help="do not run POT's sinkhorn_log")
    args = ap.parse_args()
    print(f"POT {pot.__version__}, NumPy {np.__version__}, load average "
          f"{os.getloadavg()[0]:.2f} (2 cores shared)\n")
    r1 = bench_i(args.n, args.repeats)
    r3 = bench_iii(args.repeats)
    r2 = bench_ii(args.n, args.skip_log)
    print("ratios (CPU time): "
          f"(i) ours/POT = {r1:.2f}, "
          + (f"(ii) POT/ours = {r2:.1f}, " if r2 is not None else "")
          + f"(iii) ours/POT = {r3:.2f}; load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
