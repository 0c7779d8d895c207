"""The cheap-gradient principle, measured: cost of (value + gradient) / cost of the value.

For the same 8-layer tanh MLP with a softmax cross-entropy loss, in float64, this times side by side

* the own engine (``course_lib.autodiff.Tensor``): value = the plain NumPy forward pass,
  value + gradient = the forward pass recorded on Tensors and one backward sweep;
* PyTorch: value = the forward pass under ``torch.no_grad()``, value + gradient = the forward pass
  with autograd recording and ``loss.backward()``,

and prints the median over repeats of each ratio (``timing.gradient_cost_ratio``: CPU times, value
and value + gradient timed in alternation). Reverse mode predicts a small constant (about 3 for
matrix products: each forward product costs two in the backward sweep), independent of the number of
parameters; storing the intermediate arrays for the sweep (fresh memory, page faults) adds to it.
BLAS and PyTorch run on ``--threads`` threads (default 1, so that CPU time measures work).

    python benchmarks/bench_autodiff.py [--width 256] [--batch 512] [--layers 8] [--repeats 15] [--threads 1]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from course_lib import autodiff as ad, timing


def own_engine(params, X, y):
    def value():
        return ad.softmax_cross_entropy(ad.mlp(params, X), y)

    def value_and_grad():
        tparams = [(ad.Tensor(W), ad.Tensor(b)) for W, b in params]
        loss = ad.softmax_cross_entropy(ad.mlp(tparams, X), y)
        loss.backward()
        return loss.value, [(W.grad, b.grad) for W, b in tparams]
    return value, value_and_grad


def pytorch(params, X, y):
    tparams = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def value():
        with torch.no_grad():
            return torch.nn.functional.cross_entropy(ad.mlp(tparams, Xt), yt)

    def value_and_grad():
        for W, b in tparams:
            W.grad = b.grad = None
        loss = torch.nn.functional.cross_entropy(ad.mlp(tparams, Xt), yt)
        loss.backward()
        return loss
    return value, value_and_grad


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    widths = [args.width] * args.layers + [10]
    params = ad.init_mlp(widths, rng)
    X, y = rng.standard_normal((args.batch, args.width)), rng.integers(0, 10, size=args.batch)
    n_params = sum(W.size + b.size for W, b in params)
    print(f"{args.layers}-layer tanh MLP, width {args.width}, batch {args.batch}, {n_params} parameters, "
          f"float64, {args.threads} thread(s); CPU times, median of {args.repeats} repeats")
    print(f"{'engine':>12} | {'value (ms)':>10} | {'value+grad (ms)':>15} | ratio")
    torch.set_num_threads(args.threads)
    with threadpool_limits(limits=args.threads):
        for name, make in (("own Tensor", own_engine), ("torch", pytorch)):
            r = timing.gradient_cost_ratio(*make(params, X, y), repeats=args.repeats)
            print(f"{name:>12} | {1e3 * r.t_value:10.2f} | {1e3 * r.t_grad:15.2f} | {r.ratio:.2f}")


if __name__ == "__main__":
    main()
