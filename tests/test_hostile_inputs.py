"""Hostile inputs: every public function of ``course_lib`` refuses bad input loudly (issue 10).

What is checked
---------------
The modules are found with ``pkgutil`` (every ``course_lib.<name>``, private ``_modules`` aside, and
the ``autodiff`` package), their public names in each module's ``__all__``. Then:

1. ``test_every_module_declares_all`` and ``test_every_public_callable_is_registered``: every
   module has an ``__all__``, and every callable it lists has an entry in ``REGISTRY`` (or a reason
   in ``NOT_COVERED``). A new function, or a new module of chapters 7-10, fails here until it has
   an entry: the guarantee is inherited, never silently skipped.
2. ``test_valid_call_succeeds``: each entry's valid arguments work, so that an attack below changes
   one argument of a call that is right in every other.
3. ``test_hostile_argument_is_refused``: for each attacked argument, hypothesis draws a bad value
   from *every* family of the argument's kind (table below) and the call must raise ``ValueError``
   or ``TypeError`` whose message names the argument (for a user callable, the callable's
   argument). A silent result, or any other exception (``KeyError``, ``RuntimeError`` from torch,
   ``MemoryError``...), fails the test with the family that got through.

Kinds of argument and the families of bad input they get
--------------------------------------------------------
=================  ==========================================================================
``Arr(...)``       an array: NaN or +-inf at a drawn entry, a complex entry, text, ``None`` (when
                   not optional), an object; ``ndim``: an extra / a missing axis; ``match``: one
                   more entry along the axes whose length other arguments fix; ``empty``: no row
``Num(...)``       a number: NaN, +-inf, complex, text, a list, ``True``, ``None`` (when not
                   optional); ``sign="pos"``: 0 and a negative number; ``"nonneg"``: a negative
                   number; ``integer``: a fraction; ``upper``: a number above the bound;
                   ``huge``: ``10**12`` (must be refused before any allocation)
``RNG`` / ``SEED`` a NumPy Generator or a seed: ``-1``, ``2.5``, text, ``True``, an object, a
                   legacy ``RandomState`` (``SEED``: a Generator instead of an int)
``Fn(...)``        a user callable: not callable; ``poison``: the valid callable wrapped so that
                   it returns NaN or inf (at a drawn entry), ``None``, or complex values
``Choice(...)``    one of a few names: an unknown name, a number, a list, ``None``
``Tens(...)``      a torch tensor: NaN, inf, complex or integer dtype, a NumPy array, a 1-D tensor
``Model()``        a ``torch.nn.Module``: text, a plain function, ``None``
``Labels(c)``      class labels in ``[0, c)``: a fraction, ``-1``, ``c``, NaN, one label too few
``Bad(...)``       an explicit list of ``(label, value)`` pairs (dict layouts, pairs, ...)
=================  ==========================================================================
Any kind takes ``extra=[(label, value), ...]`` for bad values of its own (``lower > upper``, a
non-symmetric matrix...) and ``names=(...)`` for other words the message may use instead of the
argument's name.

Adding a module (e.g. ``course_lib/foo.py`` of a new chapter) -- five steps
-------------------------------------------------------------------------
1. In ``foo.py``, list every public name in ``__all__ = ["bar", "Baz", ...]`` (the test finds the
   functions there; a module without ``__all__`` fails ``test_every_module_declares_all``).
2. Below, find the line ``# ---- chapter 7 entries`` (or 9, 10: one marked place per chapter, so
   that chapters merged in any order do not conflict) and add ONE entry per public callable in a
   ``REGISTRY.update({...})`` block there.  An entry is ``E(valid, **kinds)``: ``valid`` a function
   returning a dict of *valid*, tiny keyword arguments (the call runs once per bad value), and one
   keyword per argument to attack, giving its kind (table above; ready-made kinds: ``ARR``, ``ANY``
   (any shape), ``POS``, ``NONNEG``, ``REAL``, ``COUNT``, ``COUNT0``, ``HCOUNT``/``HCOUNT0`` (a
   count that sizes an allocation: ``10**12`` must be refused by name, e.g. with
   ``course_lib.utils.check_size``), ``RNG``, ``SEED``, ``FN``, ``CALLBACK``, ``CHOICE``,
   ``MODEL``)::

       REGISTRY.update({
           "foo.bar": E(lambda: dict(x=np.ones(3), n_iter=5, rng=0, f=lambda x: x @ x),
                        x=Arr(ndim=True), n_iter=Num(sign="nonneg", integer=True, huge=True),
                        rng=RNG, f=Fn(poison=True)),
           "foo.Baz": E(lambda: dict(width=4), width=HCOUNT),          # a class: its constructor
           "foo.Baz.forward": E(lambda: dict(x=torch.ones(2, 3, 4)),   # a method of a built object
                                call=lambda cls, x: cls(4)(x), x=Tens()),
           "foo.bar[with f]": E(...),   # a second valid call of the same function (other options)
       })

   Arguments left out are not attacked (flags, display options).  ``Arr(match=(0,))`` says that
   other arguments fix the length along axis 0; ``Arr(ndim=False)`` that any number of axes is
   valid; ``extra=[("label", value), ...]`` adds bad values of the function's own (``lower >
   upper``, a non-symmetric matrix); ``names=("A",)`` accepts a message that names another
   argument instead (``y`` does not match the rows of ``A``).  A name re-exported from another
   module is covered by its entry there.
3. A name that cannot be attacked meaningfully goes to ``NOT_COVERED`` (a module or
   ``"module.Name"``) with a one-line reason; today ``checks``, ``sheets``, ``grading``
   (their hostile inputs have their own tests), the result types ``ode.ODEGradient`` and
   ``timing.CostRatio``, and the abstract ``autodiff.graph.Node``.
4. Run ``pytest tests/test_hostile_inputs.py -k "foo."``: each failure lists every bad value that
   got through and what happened (silent result, ``KeyError``, a message that does not name the
   argument...).  Fix the *function* (``course_lib.utils``: ``as_array``, ``as_scalar``,
   ``as_count``, ``as_choice``, ``as_rng``, ``check_callable``, ``check_result``,
   ``check_size``), not the entry -- unless the value is in fact valid for that function (then
   narrow the kind, and say why in a comment).
5. Keep it fast: ``-k "foo."`` should take seconds (tiny valid arguments, no training loops of more
   than a few steps).

The module makes about 17 500 hostile calls (759 arguments of 225 entries covering 229 public
callables, 5 850 families, 3 examples each) and runs in about 53 s of CPU time on one core (2.5 min
wall at load 5); hypothesis examples are derandomized by the profile of ``conftest.py``,
``MAX_EXAMPLES`` draws per argument.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import course_lib
from course_lib import autodiff as ad
from course_lib import ode

MAX_EXAMPLES = 3      # per (function, argument); each example tries every family of the kind
HUGE = 10**12

# ============================================================================ kinds of argument


class Kind:
    """An argument kind: ``families(valid, optional)`` lists ``(label, strategy of bad values)``."""

    def __init__(self, extra=(), names=(), none_ok=False):
        self.extra, self.names, self.none_ok = list(extra), tuple(names), none_ok

    def families(self, valid, optional):
        return (self._families(valid, optional or self.none_ok)
                + [(label, st.just(v)) for label, v in self.extra])

    def _families(self, valid, optional):
        raise NotImplementedError


def _put(a, i, value, dtype=np.float64):
    """A copy of the array ``a`` with ``value`` at flat entry ``i % a.size``."""
    b = np.array(a, dtype=dtype)
    b.reshape(-1)[i % b.size] = value
    return b


def _grow(a, axis):
    """``a`` with its first slice along ``axis`` repeated: one entry too many."""
    return np.concatenate([a, np.take(a, [0], axis=axis)], axis=axis)


INDEX = st.integers(0, 10**6)
COMPLEX = st.sampled_from([1j, 0.5 + 2j, -1e-3j])


class Arr(Kind):
    def __init__(self, ndim=True, match=(), empty=False, **kw):
        super().__init__(**kw)
        self.ndim, self.match, self.empty = ndim, tuple(match), empty

    def _families(self, valid, optional):
        a = np.asarray(valid, dtype=np.float64)
        fam = []
        if a.size:
            fam += [("NaN entry", INDEX.map(lambda i: _put(a, i, np.nan))),
                    ("inf entry", st.tuples(INDEX, st.sampled_from([np.inf, -np.inf]))
                     .map(lambda t: _put(a, t[0], t[1]))),
                    ("complex entry", st.tuples(INDEX, COMPLEX).map(
                        lambda t: _put(a, t[0], a.reshape(-1)[t[0] % a.size] + t[1], complex)))]
        fam += [("text", st.sampled_from(["abc", "1.5"])), ("object", st.just(object()))]
        if not optional:
            fam.append(("None", st.just(None)))
        if self.ndim in (True, "extra"):
            fam.append(("extra axis", st.just(a[None])))
        if self.ndim in (True, "missing") and a.ndim >= 1 and a.shape[0] > 0:
            fam.append(("missing axis", st.just(a[0])))
        for axis in self.match:
            fam.append((f"wrong length along axis {axis}", st.just(_grow(a, axis))))
        if self.empty:
            fam.append(("empty", st.just(a[:0])))
        return fam


class Num(Kind):
    def __init__(self, sign=None, integer=False, upper=None, huge=False, **kw):
        super().__init__(**kw)
        self.sign, self.integer, self.upper, self.huge = sign, integer, upper, huge

    def _families(self, valid, optional):
        fam = [("NaN", st.just(float("nan"))),
               ("inf", st.sampled_from([np.inf, -np.inf])),
               ("complex", COMPLEX.map(lambda z: (valid if valid is not None else 1.0) + z)),
               ("text", st.just("1")),
               ("list", st.just([1.0, 2.0])),
               ("bool", st.just(True))]
        if not optional:
            fam.append(("None", st.just(None)))
        if self.sign == "pos":
            fam += [("zero", st.just(0)), ("negative", st.sampled_from([-1, -2.5]))]
        elif self.sign == "nonneg":
            fam.append(("negative", st.sampled_from([-1, -2.5])))
        if self.integer:
            fam.append(("fraction", st.just((valid if valid is not None else 1) + 0.5)))
        if self.upper is not None:
            fam.append(("above the bound", st.just(self.upper + 1.0)))
        if self.huge:
            fam.append(("huge", st.just(HUGE)))
        return fam


class _Rng(Kind):
    def __init__(self, seed_only=False, **kw):
        super().__init__(**kw)
        self.seed_only = seed_only

    def _families(self, valid, optional):
        fam = [("negative seed", st.just(-1)), ("fractional seed", st.just(2.5)),
               ("text", st.just("0")), ("bool", st.just(True)), ("object", st.just(object())),
               ("legacy RandomState", st.just(np.random.RandomState(0)))]
        if self.seed_only:
            fam.append(("a Generator", st.just(np.random.default_rng(0))))
        if not optional:
            fam.append(("None", st.just(None)))
        return fam


class Fn(Kind):
    def __init__(self, poison=True, complex=True, not_callable=(3, "f"), **kw):
        super().__init__(**kw)
        self.poison, self.complex, self.not_callable = poison, complex, not_callable

    def _families(self, valid, optional):
        fam = [("not callable", st.sampled_from(self.not_callable))]
        if self.poison and valid is not None:
            hows = ["nan", "inf", "none"] + (["complex"] if self.complex else [])
            fam += [(f"returns {how}", INDEX.map(lambda i, h=how: _poisoned(valid, h, i)))
                    for how in hows]
        return fam


def _poisoned(f, how, i):
    def g(*args, **kwargs):
        return _poison(f(*args, **kwargs), how, i)
    return g


def _poison(out, how, i):
    from course_lib.autodiff import Dual, Tensor
    if isinstance(out, tuple):
        return (_poison(out[0], how, i), *out[1:])
    if how == "none":
        return None
    bad = {"nan": np.nan, "inf": np.inf}.get(how)
    if isinstance(out, torch.Tensor):
        t = out.detach().clone() if how != "complex" else out.detach().to(torch.complex128)
        t.reshape(-1)[i % t.numel()] = bad if how != "complex" else t.reshape(-1)[0] + 1j
        return t
    if isinstance(out, (Tensor, Dual)):  # a graph node: add a constant with one bad entry
        if how == "complex":
            return out
        return out + _put(np.zeros(np.shape(out.value)), i, bad)
    a = np.asarray(out, dtype=np.float64)
    if how == "complex":
        b = _put(a, i, a.reshape(-1)[i % a.size] + 1j, complex) if a.size else a + 1j
        return b if a.ndim else complex(b)
    b = _put(a, i, bad) if a.size else a
    return b if a.ndim else float(b)


class Choice(Kind):
    def _families(self, valid, optional):
        fam = [("unknown name", st.just("bogus")), ("number", st.just(3)), ("list", st.just([]))]
        if not optional:
            fam.append(("None", st.just(None)))
        return fam


class Tens(Kind):
    def __init__(self, ndim=True, **kw):
        super().__init__(**kw)
        self.ndim = ndim

    def _families(self, valid, optional):
        v = valid
        fam = [("NaN entry", INDEX.map(lambda i: torch.as_tensor(_put(v.numpy(), i, np.nan),
                                                               dtype=v.dtype))),
               ("inf entry", INDEX.map(lambda i: torch.as_tensor(_put(v.numpy(), i, np.inf),
                                                               dtype=v.dtype))),
               ("complex dtype", st.just(v.to(torch.complex64))),
               ("integer dtype", st.just(v.long())),
               ("NumPy array", st.just(v.numpy().copy())),
               ("text", st.just("q"))]
        if self.ndim:
            fam.append(("1-D", st.just(v.reshape(-1))))
        if not optional:
            fam.append(("None", st.just(None)))
        return fam


class Model(Kind):
    def _families(self, valid, optional):
        return [("text", st.just("model")), ("function", st.just(lambda x: x)),
                ("None", st.just(None))]


class Labels(Kind):
    def __init__(self, n_classes, **kw):
        super().__init__(**kw)
        self.n_classes = n_classes

    def _families(self, valid, optional):
        y = np.asarray(valid)
        c = self.n_classes
        return [("fractional label", INDEX.map(lambda i: _put(y, i, 0.7))),
                ("negative label", INDEX.map(lambda i: _put(y, i, -1).astype(np.int64))),
                ("label >= n_classes", INDEX.map(lambda i: _put(y, i, c).astype(np.int64))),
                ("NaN label", INDEX.map(lambda i: _put(y, i, np.nan))),
                ("one label too few", st.just(y[1:])),
                ("complex", st.just(y + 1j)),
                ("None", st.just(None))]


class Bad(Kind):
    def __init__(self, *pairs, **kw):
        super().__init__(extra=pairs, **kw)

    def _families(self, valid, optional):
        return []


ARR = Arr()
ANY = Arr(ndim=False)                       # any shape is valid
POS = Num(sign="pos")
NONNEG = Num(sign="nonneg")
REAL = Num()
COUNT = Num(sign="pos", integer=True)       # an integer >= 1
COUNT0 = Num(sign="nonneg", integer=True)   # an integer >= 0
HCOUNT = Num(sign="pos", integer=True, huge=True)     # ... that sizes an allocation
HCOUNT0 = Num(sign="nonneg", integer=True, huge=True)
RNG = _Rng()
SEED = _Rng(seed_only=True)
FN = Fn()
CALLBACK = Fn(poison=False)                 # its return value is ignored
CHOICE = Choice()
MODEL = Model()


class E:
    """A registry entry: a builder of valid keyword arguments and the kinds of the attacked ones."""

    def __init__(self, valid, call=None, **kinds):
        self.valid, self.call, self.kinds = valid, call, kinds

    def run(self, obj, kwargs):
        return obj(**kwargs) if self.call is None else self.call(obj, **kwargs)


# ============================================================================ valid data

def X3():
    return np.array([1.0, -2.0, 0.5])


def A43():
    return np.array([[2.0, 0.0, 1.0], [0.0, 1.0, -1.0], [1.0, 1.0, 0.5], [0.5, -1.0, 2.0]])


def Y4():
    return np.array([1.0, -1.0, 0.5, 2.0])


def sq(x):
    return float(np.sum(np.asarray(x) ** 2))


def grad_sq(x, *idx):
    return 2.0 * np.asarray(x)


def soft(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


def axes():
    import matplotlib.pyplot as plt
    return plt.subplots()[1]


def image():
    return np.arange(12.0).reshape(3, 4) / 12.0


def field():
    return np.stack([image(), -image()])


def cb(k, x):
    return None


def lv_x0():
    return np.array([1.0, 0.5])


def lv_theta():
    return np.array([1.0, 0.5, 1.0, 0.3])


def torch_qkv():
    g = torch.Generator().manual_seed(0)
    return [torch.randn(1, 3, 4, generator=g) for _ in range(3)]


def tiny_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))


def tensor_loss(X):
    return (X * X).sum()


def rho():
    from course_lib.approximation import relu_measure
    return relu_measure(np.array([[1.0], [-1.0]]), np.array([0.0, 0.5]), np.array([1.0, 0.5]),
                        np.array([1.0, -1.0]))


def mlp_params():
    return [(np.array([[1.0, -0.5], [0.3, 0.8], [0.0, 1.0]]), np.zeros(3)),
            (np.array([[0.5, -1.0, 0.2]]), np.array([0.1]))]


def cache_and_grad():
    from course_lib.backprop import mlp_forward
    out, cache = mlp_forward(mlp_params(), np.array([[0.5, -1.0], [1.0, 2.0]]))
    return cache, np.ones_like(out)


def velocity_params():
    from course_lib.resnets import smooth_velocity_params
    return smooth_velocity_params(2, 3, 0)


def ridge_path(A, y, lams):
    from course_lib.linear_models import ridge_path
    return ridge_path(A, y, lams)


def ad_params():
    return [(np.array([[1.0, -0.5, 0.2], [0.3, 0.8, -1.0]]), np.zeros(3)),
            (np.array([[0.5], [-1.0], [0.2]]), np.zeros(1))]


def tiny_gpt():
    from course_lib.gpt import gpt
    torch.manual_seed(0)
    return gpt(5, 4, 2, 1, 6)


def selective_inputs():
    g = np.random.default_rng(0)
    return dict(x=g.standard_normal((4, 2)), delta=np.full((4, 2), 0.5),
                A=-np.ones((2, 3)), B=g.standard_normal((4, 3)), C=g.standard_normal((4, 3)))


# bad values shared by several entries
BAD_WIDTHS = Bad(("one width", [3]), ("zero width", [3, 0, 2]), ("fractional width", [3, 2.5, 2]),
                 ("huge width", [3, HUGE, 2]), ("NaN width", [3, float("nan"), 2]),
                 ("text", "abc"), ("None", None))
BAD_RHO = Bad(("not a dict", 3), ("missing key", {"w_mean": np.ones((1, 1))}),
              ("NaN inside", {"w_mean": np.array([[np.nan]]), "b_mean": np.zeros(1),
                              "b_std": np.ones(1), "sign": np.ones(1)}))
BAD_MLP_PARAMS = Bad(("not a list", 3), ("empty", []), ("not pairs", [(np.ones((2, 2)),)]),
                     ("NaN weight", [(np.full((1, 2), np.nan), np.zeros(1))]),
                     ("chained shapes differ", [(np.ones((3, 2)), np.zeros(3)),
                                                (np.ones((1, 2)), np.zeros(1))]))
BAD_VELOCITY_PARAMS = Bad(("not a dict", 3), ("missing key", {"W1": np.ones((1, 2, 2))}),
                          ("NaN inside", {"W1": np.full((1, 3, 2), np.nan), "b": np.zeros((1, 3)),
                                          "W2": np.zeros((1, 2, 3))}))
BAD_TIMES = Arr(ndim="extra", extra=[("decreasing", [1.0, 0.5]), ("zero time", [0.0, 1.0]),
                       ("negative time", [-1.0, 1.0])])
BAD_IDS = Bad(("float ids", np.array([0.5, 1.0, 2.0, 3.0, 1.0])), ("negative id", np.array([0, -1, 2, 3, 1])),
              ("2-D", np.zeros((2, 5), int)), ("too short", np.array([1])), ("text", "abc"),
              ("None", None))
BAD_TEXT = Bad(("bytes", b"aab"), ("number", 3), ("empty", ""), ("None", None))
BAD_AX = Bad(("text", "ax"), ("None", None), ("number", 3))
BAD_WEIGHTS = Arr(none_ok=True, extra=[("negative weight", np.array([0.5, -0.1, 0.6])),
                         ("zero mass", np.zeros(3))])
NOT_SYMMETRIC = ("not symmetric", np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))


def _opt(**extra):
    return lambda: dict(grad_f=grad_sq, x0=X3(), n_iter=5, callback=cb, **extra)


OPT = dict(grad_f=FN, x0=ARR, n_iter=HCOUNT0, callback=CALLBACK)
UNIT = Num(sign="nonneg", upper=1.0)        # in [0, 1)
UNIT_POS = Num(sign="pos", upper=1.0)       # in (0, 1)


def _lasso(**extra):
    return lambda: dict(A=A43(), y=Y4(), lam=0.1, **extra)


LASSO = dict(A=ARR, y=Arr(match=(0,), names=("A",)), lam=NONNEG)


def _ode(**extra):
    from course_lib.ode import lotka_volterra
    return lambda: dict(f=lotka_volterra, x0=lv_x0(), theta=lv_theta(), times=np.array([0.5, 1.0]),
                        n_steps=4, **extra)


ODE = dict(f=FN, x0=ARR, theta=ARR, times=BAD_TIMES, n_steps=COUNT, method=CHOICE)


# ============================================================================ the registry

REGISTRY = {
    # ------------------------------------------------------------------ optim
    "optim.gradient_descent": E(_opt(step=0.1), step=POS, **OPT),
    "optim.nesterov": E(_opt(step=0.1, mu=0.5), step=POS, mu=NONNEG, **OPT),
    "optim.heavy_ball": E(_opt(step=0.1, beta=0.5), step=POS, beta=UNIT, **OPT),
    "optim.momentum": E(_opt(step=0.1, beta=0.5), step=POS, beta=UNIT, **OPT),
    "optim.rmsprop": E(_opt(step=0.1, alpha=0.9, eps=1e-8), step=POS, alpha=UNIT, eps=POS, **OPT),
    "optim.adam": E(_opt(step=0.1, betas=(0.9, 0.999), eps=1e-8), step=POS, eps=POS, **OPT,
                    betas=Bad(("one beta", (0.9,)), ("text", "ab"), ("beta >= 1", (1.5, 0.9)),
                              ("NaN beta", (np.nan, 0.9)), ("complex beta", (0.9, 0.5j)),
                              ("None", None))),
    "optim.sgd": E(lambda: dict(grad_fi=grad_sq, x0=X3(), n_samples=4, step=0.1, n_iter=5, rng=0,
                                batch_size=2, average=False, callback=cb),
                   grad_fi=FN, x0=ARR, n_samples=COUNT, step=POS, n_iter=HCOUNT0, rng=RNG,
                   batch_size=HCOUNT, callback=CALLBACK,
                   average=Bad(("text", "yes"), ("None", None))),
    "optim.sgd[step schedule]": E(lambda: dict(grad_fi=grad_sq, x0=X3(), n_samples=4,
                                               step=lambda k: 0.1 / (k + 1), n_iter=5, rng=0),
                                  step=Fn(not_callable=("f",))),  # a number is a constant step
    "optim.gradient_descent_armijo": E(lambda: dict(f=sq, grad_f=grad_sq, x0=X3(), n_iter=5,
                                                    step0=1.0, c=1e-4, shrink=0.5, callback=cb),
                                       f=FN, grad_f=FN, x0=ARR, n_iter=HCOUNT0, step0=POS,
                                       c=UNIT_POS, shrink=UNIT_POS, callback=CALLBACK),
    "optim.armijo_step": E(lambda: dict(f=sq, x=X3(), g=2 * X3(), step0=1.0, c=1e-4, shrink=0.5,
                                        max_backtracks=100),
                           f=FN, x=ARR, g=Arr(match=(0,)), step0=POS, c=UNIT_POS, shrink=UNIT_POS,
                           max_backtracks=COUNT0),
    "optim.contraction_factor": E(lambda: dict(step=0.1, L=2.0, mu=0.5), step=POS, L=POS,
                                  mu=NONNEG),
    "optim.optimal_step": E(lambda: dict(L=2.0, mu=0.5), L=POS, mu=NONNEG),
    "optim.heavy_ball_parameters": E(lambda: dict(L=2.0, mu=0.5), L=POS, mu=POS),
    "optim.polyak_average": E(lambda: dict(iterates=np.arange(6.0).reshape(3, 2)), iterates=ARR),

    # ------------------------------------------------------------------ derivatives
    "derivatives.central_difference": E(lambda: dict(f=sq, x=X3(), h=1e-5),
                                        f=FN, x=Arr(ndim="extra"), h=POS),
    "derivatives.forward_difference": E(lambda: dict(f=sq, x=X3(), h=1e-7),
                                        f=FN, x=Arr(ndim="extra"), h=POS),
    "derivatives.numerical_jacobian": E(lambda: dict(F=lambda x: np.array([x[0] * x[1], x.sum()]),
                                                     x=X3(), h=1e-6), F=FN, x=ARR, h=POS),
    "derivatives.numerical_hessian": E(lambda: dict(f=sq, x=X3(), h=1e-4), f=FN, x=ARR, h=POS),
    "derivatives.numerical_hessian[grad_f]": E(lambda: dict(f=sq, x=X3(), grad_f=grad_sq),
                                               grad_f=FN),
    "derivatives.quadratic": E(lambda: dict(A=np.diag([1.0, 2.0, 3.0]), b=X3()),
                               A=Arr(extra=[NOT_SYMMETRIC]), b=Arr(match=(0,))),
    "derivatives.least_squares": E(lambda: dict(A=A43(), b=Y4()),
                                   A=Arr(empty=True), b=Arr(match=(0,))),
    "derivatives.logistic_loss": E(lambda: dict(X=A43(), y=np.array([1.0, -1.0, 1.0, -1.0]), lam=0.1),
                                   X=Arr(empty=True), lam=NONNEG,
                                   y=Arr(match=(0,), extra=[("0/1 labels", np.array([1.0, 0, 1, 0]))])),
    "derivatives.logistic_smoothness": E(lambda: dict(X=A43(), lam=0.1),
                                         X=Arr(empty=True), lam=NONNEG),
    "derivatives.smoothness_constants": E(lambda: dict(A=np.diag([1.0, 2.0, 3.0])),
                                          A=Arr(extra=[NOT_SYMMETRIC])),

    # ------------------------------------------------------------------ lasso
    "lasso.lasso_objective": E(_lasso(x=X3()), x=Arr(match=(0,)), **LASSO),
    "lasso.lasso_gap": E(_lasso(x=X3()), x=Arr(match=(0,)), **LASSO),
    "lasso.ista": E(_lasso(n_iter=5, x0=X3(), step=0.05, tol=0.0, callback=cb), **LASSO,
                    n_iter=COUNT0, x0=Arr(match=(0,)), step=POS, tol=NONNEG, callback=CALLBACK),
    "lasso.fista": E(_lasso(n_iter=5, x0=X3(), step=0.05, tol=0.0, callback=cb), **LASSO,
                     n_iter=COUNT0, x0=Arr(match=(0,)), step=POS, tol=NONNEG, callback=CALLBACK),
    "lasso.subgradient": E(_lasso(n_iter=5, x0=X3(), step=0.05, tol=0.0, callback=cb), **LASSO,
                           n_iter=COUNT0, x0=Arr(match=(0,)), step=POS, tol=NONNEG,
                           callback=CALLBACK),
    "lasso.admm": E(_lasso(n_iter=5, rho=1.0, x0=X3(), tol=0.0, callback=cb), **LASSO,
                    n_iter=COUNT0, rho=POS, x0=Arr(match=(0,)), tol=NONNEG, callback=CALLBACK),
    "lasso.lasso": E(_lasso(x0=X3(), tol=1e-10, max_iter=1000), **LASSO,
                     x0=Arr(match=(0,)), tol=NONNEG, max_iter=COUNT),
    "lasso.lasso_path": E(lambda: dict(A=A43(), y=Y4(), lams=np.array([0.5, 0.1]), tol=1e-10,
                                       max_iter=1000),
                          A=ARR, y=Arr(match=(0,), names=("A",)), tol=NONNEG, max_iter=COUNT,
                          lams=Arr(extra=[("negative lam", np.array([0.5, -0.1]))])),

    # ------------------------------------------------------------------ prox
    "prox.soft_threshold": E(lambda: dict(x=X3(), tau=0.5), x=ANY,
                             tau=Num(sign="nonneg", extra=[("array of the wrong shape",
                                                            np.array([0.1, 0.2]))])),
    "prox.prox_l2": E(lambda: dict(x=X3(), tau=0.5), x=ANY, tau=NONNEG),
    "prox.prox_linf": E(lambda: dict(x=X3(), tau=0.5), x=ARR, tau=NONNEG),
    "prox.prox_nuclear": E(lambda: dict(X=A43(), tau=0.5), X=ARR, tau=NONNEG),
    "prox.prox_group_l2": E(lambda: dict(x=X3(), tau=0.5, groups=np.array([0, 0, 1])), x=ARR,
                            tau=NONNEG,
                            groups=Bad(("fractional groups", np.array([0.5, 0, 1])),
                                       ("wrong length", np.array([0, 1])), ("None", None),
                                       ("text", "abc"), ("complex", np.array([0, 1j, 1])))),
    "prox.project_box": E(lambda: dict(x=X3(), lower=-1.0, upper=1.0), x=ANY,
                          lower=Arr(ndim=False, extra=[("lower > upper", 2.0)]),
                          upper=Arr(ndim=False, extra=[("upper < lower", -2.0),
                                                       ("wrong shape", np.ones(2))])),
    "prox.project_simplex": E(lambda: dict(x=X3(), radius=1.0), x=Arr(ndim="missing"),
                              radius=POS),
    "prox.project_l1_ball": E(lambda: dict(x=X3(), radius=1.0), x=ARR, radius=NONNEG),
    "prox.prox_conjugate": E(lambda: dict(prox_f=soft, v=X3(), t=0.5), prox_f=FN, v=ANY, t=POS),
    "prox.project_affine": E(lambda: dict(A=A43()[:2], y=np.array([1.0, 2.0])),
                             A=ARR, y=Arr(match=(0,)),),
    "prox.project_affine[P]": E(lambda: dict(A=A43()[:2], y=np.array([1.0, 2.0]), v=X3()),
                                call=lambda project_affine, A, y, v: project_affine(A, y)(v),
                                v=Arr(match=(0,))),

    # ------------------------------------------------------------------ splitting
    "splitting.forward_backward": E(lambda: dict(grad_f=grad_sq, prox_g=soft, step=0.2, n_iter=5,
                                                 x0=X3(), objective=sq, gap=sq, tol=0.0,
                                                 callback=cb),
                                    grad_f=FN, prox_g=FN, step=POS, n_iter=COUNT0, x0=ANY,
                                    objective=FN, gap=FN, tol=NONNEG, callback=CALLBACK),
    "splitting.douglas_rachford": E(lambda: dict(prox_f=lambda v, t: v / (1 + 2 * t), prox_g=soft,
                                                 gamma=1.0, n_iter=5, x0=X3(), relax=1.0,
                                                 objective=sq, tol=0.0, callback=cb),
                                    prox_f=FN, prox_g=FN, gamma=POS, n_iter=COUNT0, x0=ANY,
                                    relax=Num(sign="pos", upper=2.0), objective=FN, tol=NONNEG,
                                    callback=CALLBACK),
    "splitting.admm": E(lambda: dict(prox_f=lambda v, t: v / (1 + 2 * t), prox_g=soft, rho=1.0,
                                     n_iter=5, x0=X3(), objective=sq, tol=0.0, callback=cb),
                        prox_f=FN, prox_g=FN, rho=POS, n_iter=COUNT0, x0=ANY, objective=FN,
                        tol=NONNEG, callback=CALLBACK),
    "splitting.chambolle_pock": E(lambda: dict(K=lambda x: np.diff(x), K_adj=lambda p: -np.diff(
                                                   np.concatenate([[0.0], p, [0.0]])),
                                               prox_g=lambda v, t: (v + t * X3()) / (1 + t),
                                               prox_fstar=lambda q, s: np.clip(q, -1.0, 1.0),
                                               tau=0.3, sigma=0.3, n_iter=5, x0=X3(),
                                               p0=np.zeros(2), theta=1.0, objective=sq, tol=0.0,
                                               callback=cb),
                                  K=FN, K_adj=FN, prox_g=FN, prox_fstar=FN, tau=POS, sigma=POS,
                                  n_iter=COUNT0, x0=ANY, p0=Arr(match=(0,)), theta=UNIT,
                                  objective=FN, tol=NONNEG, callback=CALLBACK),
    "splitting.basis_pursuit": E(lambda: dict(A=A43()[:2], y=np.array([1.0, 2.0]), n_iter=5,
                                              method="admm", gamma=0.1, x0=X3(), tol=0.0,
                                              callback=cb),
                                 A=ARR, y=Arr(match=(0,)), n_iter=COUNT0, method=CHOICE,
                                 gamma=POS, x0=Arr(match=(0,)), tol=NONNEG, callback=CALLBACK),

    # ------------------------------------------------------------------ sparsity
    "sparsity.mutual_coherence": E(lambda: dict(A=A43()),
                                   A=Arr(extra=[("zero column", np.array([[1.0, 0.0], [1.0, 0.0]])),
                                                ("one column", np.ones((3, 1)))])),
    "sparsity.welch_bound": E(lambda: dict(m=3, n=8), m=COUNT, n=COUNT),
    "sparsity.rip_constant_estimate": E(lambda: dict(A=A43(), s=2, n_trials=3, rng=0),
                                        A=ARR, s=Num(sign="pos", integer=True, upper=3),
                                        n_trials=COUNT, rng=RNG),
    "sparsity.gaussian_tail_moment": E(lambda: dict(tau=np.array([0.0, 0.5, 2.0])), tau=ANY),
    "sparsity.statistical_dimension_l1": E(lambda: dict(s=2.0, n=10),
                                           s=Arr(ndim=False, extra=[("s > n", 11.0),
                                                                    ("negative", -1.0)]),
                                           n=POS),
    "sparsity.donoho_tanner": E(lambda: dict(delta=np.array([0.25, 0.5])),
                                delta=Arr(ndim=False, extra=[("zero", 0.0), ("above 1", 1.5)])),
    "sparsity.sparse_vector": E(lambda: dict(n=6, k=2, rng=0), n=HCOUNT,
                                k=Num(sign="nonneg", integer=True, upper=6), rng=RNG),
    "sparsity.phase_transition": E(lambda: dict(n=6, ms=np.array([3]), ks=np.array([1]), n_trials=2,
                                                rng=0, n_iter=30, success_tol=1e-4),
                                   n=HCOUNT, n_trials=HCOUNT, rng=RNG, n_iter=COUNT,
                                   success_tol=POS,
                                   ms=Arr(extra=[("fractional m", np.array([2.5])),
                                                 ("m > n", np.array([7]))]),
                                   ks=Arr(extra=[("fractional k", np.array([1.5])),
                                                 ("negative k", np.array([-1]))])),

    # ------------------------------------------------------------------ images
    "images.grad": E(lambda: dict(u=image()), u=Arr(empty=True)),
    "images.div": E(lambda: dict(p=field()), p=Arr(empty=True)),
    "images.div_adjoint": E(lambda: dict(p=field()), p=Arr(empty=True)),
    "images.pixel_norms": E(lambda: dict(p=field()), p=Arr(empty=True)),
    "images.tv_norm": E(lambda: dict(u=image()), u=Arr(empty=True)),
    "images.project_pixel_ball": E(lambda: dict(p=field(), radius=1.0), p=Arr(empty=True),
                                   radius=POS),
    "images.tv_denoise": E(lambda: dict(f=image(), lam=0.1, n_iter=3, p0=field(), tol=0.0,
                                        callback=cb),
                           f=Arr(empty=True), lam=POS, n_iter=COUNT0, p0=Arr(match=(1, 2)),
                           tol=NONNEG, callback=CALLBACK),
    "images.tv_inpaint": E(lambda: dict(f=image(), mask=image() > 0.3, n_iter=3, x0=image(),
                                        tol=0.0, callback=cb),
                           f=Arr(empty=True), x0=Arr(match=(0,)), n_iter=COUNT0, tol=NONNEG,
                           callback=CALLBACK,
                           mask=Bad(("not boolean", np.ones((3, 4))), ("wrong shape", np.ones(3, bool)),
                                    ("no known pixel", np.zeros((3, 4), bool)), ("None", None))),

    # ------------------------------------------------------------------ kernels
    "kernels.linear_kernel": E(lambda: dict(X=A43(), Y=A43()[:2]), X=ARR, Y=Arr(match=(1,))),
    "kernels.polynomial_kernel": E(lambda: dict(X=A43(), Y=A43()[:2], degree=2, c=1.0),
                                   X=ARR, Y=Arr(match=(1,)), degree=COUNT, c=NONNEG),
    "kernels.gaussian_kernel": E(lambda: dict(X=A43(), Y=A43()[:2], sigma=0.5),
                                 X=ARR, Y=Arr(match=(1,)), sigma=POS),
    "kernels.laplace_kernel": E(lambda: dict(X=A43(), Y=A43()[:2], sigma=0.5),
                                X=ARR, Y=Arr(match=(1,)), sigma=POS),
    "kernels.ridge": E(lambda: dict(A=A43(), y=Y4(), lam=0.1), A=ARR, y=Arr(match=(0,)), lam=POS),
    "kernels.kernel_ridge": E(lambda: dict(K=np.eye(4) + 0.5, y=Y4(), lam=0.1),
                              K=Arr(extra=[("not positive semidefinite", -np.eye(4)),
                                           ("not symmetric", np.triu(np.ones((4, 4))))]),
                              y=Arr(match=(0,)), lam=POS),
    "kernels.kernel_ridge_predict": E(lambda: dict(K_new=A43(), alpha=X3()),
                                      K_new=ARR, alpha=Arr(match=(0,))),
    "kernels.fourier_frequencies": E(lambda: dict(d=2, n_features=5, sigma=1.0, kernel="laplace",
                                                  rng=0),
                                     d=HCOUNT, n_features=HCOUNT, sigma=POS, kernel=CHOICE, rng=RNG),
    "kernels.fourier_features": E(lambda: dict(X=A43(), W=np.ones((3, 2)), b=np.zeros(2)),
                                  X=Arr(match=(1,)), W=ARR, b=Arr(match=(0,))),

    # ------------------------------------------------------------------ linear_models
    "linear_models.ridge": E(lambda: dict(A=A43(), y=Y4(), lam=0.1, form="dual"),
                             A=Arr(empty=True), y=Arr(match=(0,)), lam=POS, form=CHOICE),
    "linear_models.ridge_path": E(lambda: dict(A=A43(), y=Y4(), lams=np.array([1.0, 0.1])),
                                  A=Arr(empty=True), y=Arr(match=(0,)),
                                  lams=Arr(empty=True, extra=[("negative", np.array([-1.0]))])),
    "linear_models.lambda_max": E(lambda: dict(A=A43(), y=Y4()), A=Arr(empty=True),
                                  y=Arr(match=(0,))),
    "linear_models.barrier_newton_step": E(
        lambda: dict(A=A43(), y=Y4(), lam=0.5, t=2.0, x=np.array([0.1, -0.2, 0.0]),
                     u=np.ones(3)),
        A=Arr(empty=True), y=Arr(match=(0,)), lam=POS, t=POS, x=Arr(match=(0,)),
        u=Arr(match=(0,), extra=[("u <= |x| (not strictly feasible)", np.array([0.1, 1.0, 1.0]))])),
    "linear_models.lasso_interior_point": E(lambda: dict(A=A43(), y=Y4(), lam=0.5, tol=1e-6,
                                                         mu=10.0, t0=1.0, max_newton=200,
                                                         center_tol=1e-6),
                                            A=Arr(empty=True), y=Arr(match=(0,)), lam=POS,
                                            tol=POS, mu=Num(sign="pos", extra=[("mu <= 1", 1.0)]),
                                            t0=POS, max_newton=COUNT, center_tol=POS),
    "linear_models.mean_squared_error": E(lambda: dict(A=A43(), y=Y4(), X=np.ones((2, 3))),
                                          A=Arr(empty=True), y=Arr(match=(0,)),
                                          X=Arr(ndim="extra", match=(1,))),
    "linear_models.kfold_errors": E(lambda: dict(path=ridge_path, A=A43(), y=Y4(),
                                                 lams=np.array([1.0, 0.1]), n_folds=2, rng=0),
                                    path=FN, A=Arr(empty=True), y=Arr(match=(0,)),
                                    lams=Arr(extra=[("negative", np.array([-1.0]))]),
                                    n_folds=Num(sign="pos", integer=True, upper=4), rng=RNG),
}

REGISTRY.update({
    # ------------------------------------------------------------------ nets
    "nets.mlp": E(lambda: dict(widths=[3, 4, 2], activation="relu", bias=True),
                  widths=BAD_WIDTHS, activation=CHOICE),
    "nets.mlp[activation callable]": E(lambda: dict(widths=[3, 4, 2], activation=torch.tanh),
                                       activation=Fn(complex=False)),
    "nets.plain_net": E(lambda: dict(d_in=3, width=4, depth=2, d_out=2, activation="tanh"),
                        d_in=HCOUNT, width=HCOUNT, depth=HCOUNT, d_out=HCOUNT, activation=CHOICE),
    "nets.resnet": E(lambda: dict(d_in=3, width=4, depth=2, d_out=2, scale=0.5, activation="tanh"),
                     d_in=HCOUNT, width=HCOUNT, depth=HCOUNT, d_out=HCOUNT, scale=REAL,
                     activation=CHOICE),
    "nets.small_cnn": E(lambda: dict(n_classes=3, channels=(2, 3), in_channels=1, image_size=8),
                        n_classes=HCOUNT, in_channels=HCOUNT,
                        image_size=Num(sign="pos", integer=True, huge=True, extra=[("< 4", 3)]),
                        channels=Bad(("one channel", (2,)), ("zero", (0, 2)), ("huge", (HUGE, 2)),
                                     ("text", "ab"), ("None", None))),
    "nets.ResidualBlock": E(lambda: dict(width=4, scale=0.5, activation="relu"),
                            width=HCOUNT, scale=REAL, activation=CHOICE),
    "nets.MultiHeadAttention": E(lambda: dict(d_model=4, n_heads=2, bias=True),
                                 d_model=HCOUNT, n_heads=Num(sign="pos", integer=True,
                                                             extra=[("does not divide", 3)])),
    "nets.MultiHeadAttention.forward": E(lambda: dict(x=torch_qkv()[0], mask=None),
                                         call=lambda cls, x, mask: cls(4, 2)(x, mask=mask),
                                         x=Tens()),
    "nets.TransformerBlock": E(lambda: dict(d_model=4, n_heads=2, d_ff=8, causal=True),
                               d_model=HCOUNT, n_heads=COUNT, d_ff=HCOUNT),
    "nets.TinyTransformer": E(lambda: dict(vocab_size=5, d_model=4, n_heads=2, n_layers=1,
                                           max_len=6, d_ff=8, positions="learned", causal=True,
                                           n_out=3),
                              vocab_size=HCOUNT, d_model=HCOUNT, n_heads=COUNT, n_layers=HCOUNT,
                              max_len=HCOUNT, d_ff=HCOUNT, positions=Choice(none_ok=True),
                              n_out=HCOUNT),
    "nets.TinyTransformer.forward": E(lambda: dict(tokens=torch.tensor([[0, 1, 4]])),
                                      call=lambda cls, tokens: cls(5, 4, 2, 1, 6)(tokens),
                                      tokens=Bad(("float tokens", torch.tensor([[0.0, 1.0]])),
                                                 ("1-D", torch.tensor([0, 1])),
                                                 ("too long", torch.zeros(1, 7, dtype=torch.long)),
                                                 ("negative token", torch.tensor([[0, -1]])),
                                                 ("token >= vocab_size", torch.tensor([[0, 5]])),
                                                 ("NumPy array", np.array([[0, 1]])))),
    "nets.sinusoidal_positions": E(lambda: dict(n_positions=5, d_model=4),
                                   n_positions=HCOUNT,
                                   d_model=Num(sign="pos", integer=True, huge=True,
                                               extra=[("odd", 3)])),
    "nets.conv1d_matrix": E(lambda: dict(w=np.array([1.0, -2.0, 1.0]), n=6, padding=1,
                                         circular=False),
                            w=Arr(empty=True), n=HCOUNT, padding=COUNT0),
    "nets.count_parameters": E(lambda: dict(model=tiny_net()), model=MODEL),
    "nets.attention": E(lambda: dict(zip("qkv", torch_qkv()), mask=torch.ones(3, 3, dtype=torch.bool),
                                     causal=False),
                        q=Tens(), k=Tens(), v=Tens(),
                        mask=Bad(("a list", [[True] * 3] * 3), ("wrong shape", torch.ones(2, 2) > 0),
                                 ("integer dtype", torch.ones(3, 3, dtype=torch.long)),
                                 ("NaN float mask", torch.full((3, 3), float("nan"))),
                                 ("+inf float mask", torch.full((3, 3), float("inf"))))),
    "nets.train": E(lambda: dict(model=tiny_net(), X=A43(), y=np.array([0, 1, 1, 0]), n_steps=2,
                                 batch_size=2, lr=1e-2, loss="cross_entropy", optimizer="sgd",
                                 weight_decay=0.0, seed=0, progress=False),
                    model=MODEL, X=Arr(empty=True, ndim="missing"), y=Labels(2), n_steps=HCOUNT,
                    batch_size=COUNT, lr=POS, loss=CHOICE, optimizer=CHOICE, weight_decay=NONNEG,
                    seed=SEED),
    "nets.train[loss callable]": E(lambda: dict(model=tiny_net(), X=A43(), y=np.array([0, 1, 1, 0]),
                                                n_steps=2, progress=False,
                                                loss=torch.nn.functional.cross_entropy),
                                   loss=Fn(complex=False)),
    "nets.evaluate": E(lambda: dict(model=tiny_net(), X=A43(), y=np.array([0, 1, 1, 0]),
                                    loss="cross_entropy"),
                       model=MODEL, X=Arr(empty=True, ndim="missing"), y=Labels(2), loss=CHOICE),
    "nets.accuracy": E(lambda: dict(model=tiny_net(), X=A43(), y=np.array([0, 1, 1, 0])),
                       model=MODEL, X=Arr(empty=True, ndim="missing"), y=Labels(2)),

    # ------------------------------------------------------------------ approximation
    "approximation.get_activation": E(lambda: dict(name="tanh"), name=CHOICE),
    "approximation.ridge_features": E(lambda: dict(x=A43(), W=np.ones((2, 3)), b=np.zeros(2),
                                                   activation="relu"),
                                      x=Arr(ndim=False, empty=True), W=Arr(match=(1,)),
                                      b=Arr(match=(0,)), activation=CHOICE),
    "approximation.two_layer": E(lambda: dict(x=A43(), W=np.ones((2, 3)), b=np.zeros(2),
                                              a=np.ones(2), activation="tanh"),
                                 x=Arr(ndim=False, empty=True), W=Arr(match=(1,)),
                                 b=Arr(match=(0,)), a=Arr(match=(0,)), activation=CHOICE),
    "approximation.random_ridge_weights": E(lambda: dict(p=4, d=2, rng=0, scale=1.0, radius=1.0),
                                            p=HCOUNT, d=HCOUNT, rng=RNG, scale=POS, radius=POS),
    "approximation.fit_outer_weights": E(lambda: dict(x=A43(), y=Y4(), W=np.ones((2, 3)),
                                                      b=np.array([0.0, 1.0]), activation="relu",
                                                      lam=0.1),
                                         x=Arr(ndim=False, empty=True), y=Arr(match=(0,)),
                                         W=Arr(match=(1,)), b=Arr(match=(0,)), activation=CHOICE,
                                         lam=NONNEG),
    "approximation.relu_measure": E(lambda: dict(w_mean=np.array([[1.0], [-1.0]]),
                                                 b_mean=np.zeros(2), b_std=np.ones(2),
                                                 sign=np.array([1.0, -1.0])),
                                    w_mean=Arr(empty=True), b_mean=Arr(match=(0,)),
                                    b_std=Arr(match=(0,), extra=[("zero std", np.zeros(2))]),
                                    sign=Arr(match=(0,), extra=[("not +-1", np.array([0.5, 1.0]))])),
    "approximation.integral_network": E(lambda: dict(x=np.array([0.5, -1.0]), rho=rho()),
                                        x=Arr(ndim=False, empty=True), rho=BAD_RHO),
    "approximation.integral_network_variance": E(lambda: dict(x=np.array([0.5, -1.0]), rho=rho()),
                                                 x=Arr(ndim=False, empty=True), rho=BAD_RHO),
    "approximation.sample_integral_network": E(lambda: dict(p=5, rho=rho(), rng=0),
                                               p=HCOUNT, rho=BAD_RHO, rng=RNG),
    "approximation.barron_errors": E(lambda: dict(x=np.linspace(-1, 1, 5), ps=np.array([2, 4]),
                                                  rho=rho(), n_seeds=2, rng=0),
                                     x=Arr(ndim=False, empty=True), rho=BAD_RHO, n_seeds=HCOUNT,
                                     rng=RNG, ps=Arr(extra=[("fractional p", np.array([2.5])),
                                                            ("zero p", np.array([0])),
                                                            ("huge p", np.array([HUGE]))])),

    # ------------------------------------------------------------------ backprop
    "backprop.mlp_init": E(lambda: dict(widths=[2, 3, 1], rng=0, gain=1.0, activation="relu",
                                        bias_std=0.1),
                           widths=BAD_WIDTHS, rng=RNG, gain=POS, activation=CHOICE, bias_std=NONNEG),
    "backprop.mlp_forward": E(lambda: dict(params=mlp_params(), x=np.array([[0.5, -1.0]]),
                                           activation="tanh"),
                              params=BAD_MLP_PARAMS, x=Arr(ndim=False, empty=True),
                              activation=CHOICE),
    "backprop.mlp_backward": E(lambda: dict(params=mlp_params(), cache=cache_and_grad()[0],
                                            grad_out=cache_and_grad()[1], activation="tanh"),
                               params=BAD_MLP_PARAMS, grad_out=Arr(match=(0,)), activation=CHOICE,
                               cache=Bad(("not a dict", 3), ("missing keys", {"h": []}))),
    "backprop.mse_loss": E(lambda: dict(out=np.ones((2, 1)), y=np.zeros((2, 1))),
                           out=Arr(ndim=False), y=Arr(match=(0,))),
    "backprop.gradient_norms_vs_depth": E(lambda: dict(depths=np.array([1, 2]), width=3, gain=1.0,
                                                       rng=0, n=4, n_seeds=2, activation="relu"),
                                          width=HCOUNT, gain=POS, rng=RNG, n=HCOUNT,
                                          n_seeds=HCOUNT, activation=CHOICE,
                                          depths=Arr(extra=[("fractional depth", np.array([1.5])),
                                                            ("zero depth", np.array([0]))])),

    # ------------------------------------------------------------------ scalings
    "scalings.two_layer_scaled": E(lambda: dict(x=A43(), W=np.ones((2, 3)), a=np.ones(2),
                                                scaling="ntk", activation="tanh"),
                                   x=Arr(ndim=False, empty=True), W=Arr(match=(1,)),
                                   a=Arr(match=(0,)), scaling=CHOICE, activation=CHOICE),
    "scalings.train_two_layer": E(lambda: dict(x=A43(), y=Y4(), W0=np.ones((2, 3)) * 0.1,
                                               a0=np.ones(2), scaling="mean_field", step=0.1,
                                               n_iter=3, activation="tanh"),
                                  x=Arr(ndim=False, empty=True), y=Arr(match=(0,)),
                                  W0=Arr(match=(1,)), a0=Arr(match=(0,)), scaling=CHOICE,
                                  step=POS, n_iter=HCOUNT0, activation=CHOICE),
    "scalings.relative_change": E(lambda: dict(W0=np.ones((2, 3)), a0=np.ones(2),
                                               W=np.zeros((2, 3)), a=np.zeros(2)),
                                  W0=ARR, a0=Arr(match=(0,)),
                                  W=Arr(match=(0, 1)), a=Arr(match=(0,))),

    # ------------------------------------------------------------------ resnets
    "resnets.euler": E(lambda: dict(v=lambda t, x: -x, x0=X3(), T=4, t1=1.0, return_path=True),
                       v=FN, x0=ANY, T=COUNT, t1=POS),
    "resnets.rk4": E(lambda: dict(v=lambda t, x: -x, x0=X3(), n_steps=4, t1=1.0, return_path=True),
                     v=FN, x0=ANY, n_steps=COUNT, t1=POS),
    "resnets.smooth_velocity_params": E(lambda: dict(d=2, hidden=3, rng=0, n_modes=2, scale=1.0),
                                        d=HCOUNT, hidden=HCOUNT, rng=RNG, n_modes=HCOUNT, scale=POS),
    "resnets.velocity": E(lambda: dict(params=velocity_params(), t=0.5, x=np.ones((2, 2))),
                          params=BAD_VELOCITY_PARAMS, t=REAL, x=Arr(ndim="extra", match=(1,))),
    "resnets.smooth_resnet": E(lambda: dict(params=velocity_params(), x0=np.ones((2, 2)), T=3),
                               params=BAD_VELOCITY_PARAMS, x0=Arr(ndim="extra", match=(1,)), T=COUNT),
    "resnets.random_resnet": E(lambda: dict(x0=np.ones((2, 2)), T=3, hidden=4, rng=0, beta=0.5,
                                            n_draws=2, return_path=True),
                               x0=Arr(ndim=False, empty=True), T=COUNT, hidden=HCOUNT, rng=RNG,
                               beta=POS, n_draws=HCOUNT),
    "resnets.quadratic_variation": E(lambda: dict(path=np.ones((3, 2, 2))),
                                     path=Arr(ndim=False, extra=[("one time", np.ones((1, 2))),
                                                                 ("one axis", np.ones(3))])),

    # ------------------------------------------------------------------ ode
    "ode.solve": E(_ode(method="heun"), **ODE),
    "ode.integrate": E(_ode(method="heun"), **{**ODE, "x0": Arr(names=("x",))}),
    "ode.rk_step": E(lambda: dict(f=ode.lotka_volterra, x=lv_x0(),
                                  theta=lv_theta(), h=0.1, method="rk4"),
                     f=FN, x=ARR, theta=ARR, h=REAL, method=CHOICE),
    "ode.rk_step_t": E(lambda: dict(v=lambda t, x: -x, t=0.0, x=X3(), h=0.1, method="midpoint"),
                       v=FN, t=REAL, x=ANY, h=REAL, method=CHOICE),
    "ode.lotka_volterra": E(lambda: dict(x=lv_x0(), theta=lv_theta()),
                            x=Arr(match=(0,)), theta=Arr(match=(0,))),
    "ode.lotka_volterra_vjp": E(lambda: dict(x=lv_x0(), theta=lv_theta(), a=np.ones(2)),
                                x=Arr(match=(0,)), theta=Arr(match=(0,)), a=Arr(match=(0,))),
    "ode.backprop_gradient": E(_ode(loss=tensor_loss, method="midpoint"), loss=Fn(complex=False),
                               **{**ODE, "f": Fn(complex=False)}),  # f runs on Tensors: real
    "ode.adjoint_gradient": E(_ode(loss=tensor_loss, method="midpoint",
                                   vjp_f=ode.lotka_volterra_vjp),
                              loss=Fn(complex=False), vjp_f=FN, **ODE),

    # ------------------------------------------------------------------ autodiff
    "autodiff.Dual": E(lambda: dict(value=1.5, deriv=1.0), value=ANY, deriv=Arr(ndim="extra")),
    "autodiff.Dual[arrays]": E(lambda: dict(value=X3(), deriv=np.ones(3)),
                               value=Arr(), deriv=Arr(ndim="extra", match=(0,))),
    "autodiff.Var": E(lambda: dict(value=1.5), value=REAL,
                      parents=Bad(("not Vars", [3.0]), ("not a sequence", 3)),
                      local_grads=Bad(("wrong count", [1.0]))),
    "autodiff.Tensor": E(lambda: dict(value=X3()), value=ANY,
                         parents=Bad(("parents without a vjp", [np.ones(2)]), ("not a sequence", 3))),
    "autodiff.as_tensor": E(lambda: dict(x=X3()), x=ANY),
    "autodiff.exp": E(lambda: dict(x=X3()), x=ANY),
    "autodiff.log": E(lambda: dict(x=np.abs(X3())), x=Arr(ndim=False, extra=[("negative", -1.0)])),
    "autodiff.tanh": E(lambda: dict(x=X3()), x=ANY),
    "autodiff.relu": E(lambda: dict(x=X3()), x=ANY),
    "autodiff.grad": E(lambda: dict(f=lambda x: (x * x).sum(), x=X3(), mode="reverse"),
                       f=Fn(complex=False), x=ANY, mode=CHOICE),
    "autodiff.grad[forward]": E(lambda: dict(f=lambda x: (x * x).sum(), x=X3(), mode="forward"),
                                f=Fn(complex=False)),
    "autodiff.jacobian": E(lambda: dict(f=lambda x: x * x, x=X3(), mode="reverse"),
                           f=Fn(complex=False), x=ARR, mode=CHOICE),
    "autodiff.jacobian[forward]": E(lambda: dict(f=lambda x: x * x, x=X3(), mode="forward"),
                                    f=Fn(complex=False)),
    "autodiff.jvp": E(lambda: dict(f=lambda x: x * x, x=X3(), v=np.ones(3)),
                      f=Fn(complex=False), x=ANY, v=Arr(match=(0,))),
    "autodiff.vjp": E(lambda: dict(f=lambda x: x * x, x=X3(), v=np.ones(3)),
                      f=Fn(complex=False), x=ANY, v=Arr(match=(0,))),
    "autodiff.init_mlp": E(lambda: dict(widths=[2, 3, 1], rng=0), widths=BAD_WIDTHS, rng=RNG),
    "autodiff.mlp": E(lambda: dict(params=ad_params(), x=np.ones((4, 2)),
                                   activation=ad.tanh),
                      params=BAD_MLP_PARAMS, x=Arr(ndim=False, match=(1,)),
                      activation=Fn(complex=False)),
    "autodiff.softmax_cross_entropy": E(lambda: dict(logits=A43(), labels=np.array([0, 2, 1, 0])),
                                        logits=ARR, labels=Labels(3)),
    "autodiff.stack": E(lambda: dict(xs=[X3(), X3()], axis=0),
                        xs=Bad(("empty", []), ("NaN array", [np.array([np.nan])]),
                               ("shapes differ", [np.ones(2), np.ones(3)]), ("number", 3),
                               ("complex array", [np.ones(2) * 1j])),
                        axis=Bad(("out of range", 5), ("text", "a"), ("fraction", 0.5))),
    "autodiff.topological_order": E(lambda: dict(output=ad.Var(1.0) * 2.0),
                                    output=Bad(("number", 3), ("array", np.ones(2)), ("None", None))),
})

REGISTRY.update({
    # ------------------------------------------------------------------ ot
    "ot.cost_matrix": E(lambda: dict(x=A43(), y=A43()[:2], p=1.5), x=Arr(ndim="extra", empty=True),
                        y=Arr(ndim="extra", match=(1,)), p=POS),
    "ot.marginal_error": E(lambda: dict(P=np.full((3, 2), 1 / 6), a=np.full(3, 1 / 3),
                                        b=np.full(2, 0.5)),
                           P=ARR, a=Arr(match=(0,)), b=Arr(match=(0,))),
    "ot.emd": E(lambda: dict(a=np.array([0.2, 0.3, 0.5]), b=np.array([0.5, 0.5]), C=A43()[:3, :2]),
                a=BAD_WEIGHTS, C=Arr(match=(0,)),
                b=Arr(match=(0,), none_ok=True, extra=[("other mass", np.array([1.0, 1.0]))])),
    "ot.emd_cost": E(lambda: dict(a=np.array([0.2, 0.3, 0.5]), b=np.array([0.5, 0.5]),
                                  C=A43()[:3, :2]),
                     a=BAD_WEIGHTS, b=Arr(match=(0,), none_ok=True), C=Arr(match=(0,))),
    "ot.wasserstein": E(lambda: dict(x=A43(), y=A43()[:2], p=2, a=np.full(4, 0.25), b=None),
                        x=Arr(ndim="extra", empty=True), y=Arr(ndim="extra", match=(1,)), p=POS,
                        a=Arr(match=(0,))),
    "ot.wasserstein_1d": E(lambda: dict(x=X3(), y=Y4(), p=1.5, a=np.array([0.2, 0.3, 0.5]),
                                        b=None),
                           x=Arr(empty=True), y=Arr(empty=True), p=POS, a=BAD_WEIGHTS),
    "ot.sliced_wasserstein": E(lambda: dict(x=A43(), y=A43()[:2], p=2, n_proj=5, seed=0),
                               x=Arr(ndim="extra", empty=True), y=Arr(ndim="extra", match=(1,)),
                               p=POS, n_proj=HCOUNT, seed=RNG),
    "ot.gaussian_w2": E(lambda: dict(m1=np.zeros(2), S1=np.eye(2), m2=np.ones(2),
                                     S2=np.array([[2.0, 0.5], [0.5, 1.0]])),
                        m1=ARR, m2=Arr(match=(0,)), S1=Arr(match=(0, 1)),
                        S2=Arr(match=(0, 1), extra=[("not PSD", -np.eye(2)),
                                                    ("not symmetric", np.triu(np.ones((2, 2))))])),
    "ot.sinkhorn": E(lambda: dict(a=np.array([0.2, 0.3, 0.5]), b=np.array([0.5, 0.5]),
                                  C=A43()[:3, :2], eps=0.5, n_iter=100, tol=1e-6,
                                  eps_scaling=None),
                     a=BAD_WEIGHTS, b=Arr(match=(0,)), C=Arr(match=(0,)), eps=POS,
                     n_iter=COUNT, tol=NONNEG, eps_scaling=Num(sign="pos", upper=1.0, none_ok=True)),
    "ot.sinkhorn_potentials": E(lambda: dict(a=np.array([0.2, 0.3, 0.5]), b=np.array([0.5, 0.5]),
                                             C=A43()[:3, :2], eps=0.5, n_iter=100, tol=1e-6),
                                a=BAD_WEIGHTS, b=Arr(match=(0,)), C=Arr(match=(0,)), eps=POS,
                                n_iter=COUNT, tol=NONNEG),
    "ot.entropic_cost": E(lambda: dict(a=np.array([0.2, 0.3, 0.5]), b=np.array([0.5, 0.5]),
                                       C=A43()[:3, :2], eps=0.5),
                          a=BAD_WEIGHTS, b=Arr(match=(0,)), C=Arr(match=(0,)), eps=POS),
    "ot.sinkhorn_divergence": E(lambda: dict(x=A43(), y=A43()[:2], eps=1.0, a=None, b=None,
                                             n_iter=200, tol=1e-6),
                                x=Arr(ndim="extra", empty=True), y=Arr(ndim="extra", match=(1,)),
                                eps=POS, n_iter=COUNT, tol=NONNEG),

    # ------------------------------------------------------------------ timing
    "timing.median_times": E(lambda: dict(fns=[lambda: None], repeats=1, min_time=1e-5),
                             fns=Bad(("not callables", [3]), ("not a sequence", 3), ("None", None)),
                             repeats=HCOUNT, min_time=NONNEG),
    "timing.gradient_cost_ratio": E(lambda: dict(value=lambda: sq(X3()), value_and_grad=lambda: X3(),
                                                 repeats=1, min_time=1e-4),
                                    value=CALLBACK, value_and_grad=CALLBACK, repeats=HCOUNT,
                                    min_time=NONNEG),

    # ------------------------------------------------------------------ data, device, notebook
    "data.diabetes": E(lambda: dict(standardize=True)),
    "data.digits": E(lambda: dict()),
    "data.gaussian_blobs": E(lambda: dict(n=5, separation=1.0, rng=0),
                             n=HCOUNT, separation=NONNEG, rng=RNG),
    "data.two_moons": E(lambda: dict(n=5, noise=0.1, rng=0), n=HCOUNT, noise=NONNEG, rng=RNG),
    "data.random_quadratic": E(lambda: dict(n=3, kappa=10.0, rng=0, mu=10.0),
                               n=HCOUNT, rng=RNG, mu=POS,
                               kappa=Num(sign="pos", extra=[("below 1", 0.5),
                                                            ("overflows", 1e308)])),
    "data.photo": E(lambda: dict(name="flower.jpg", top=0, left=0, size=8, factor=2),
                    name=CHOICE, top=COUNT0, left=COUNT0,
                    size=Num(sign="pos", integer=True, huge=True, extra=[("not a multiple", 7)]),
                    factor=COUNT),
    "device.seed_everything": E(lambda: dict(seed=np.int64(3)), seed=SEED),
    "device.default_device": E(lambda: dict(prefer_gpu=False)),
    "notebook.glue": E(lambda: dict(name="answer", value=0.5, display=False),
                       name=Bad(("not an identifier", "a b"), ("number", 3), ("None", None)),
                       value=Bad(("NaN", float("nan")), ("inf", float("inf")), ("complex", 1j),
                                 ("None", None), ("NaN array", np.array([1.0, np.nan])))),

    # ------------------------------------------------------------------ utils
    "utils.as_array": E(lambda: dict(x=[1.0, 2.0], name="x", ndim=1), x=ARR),
    "utils.as_scalar": E(lambda: dict(x=1.5, name="x"), x=REAL),
    "utils.as_count": E(lambda: dict(n=3, name="n"), n=COUNT),
    "utils.as_points": E(lambda: dict(x=np.ones((2, 2)), name="x"), x=Arr(ndim=False, empty=True)),
    "utils.as_choice": E(lambda: dict(x="a", name="x", options=("a", "b")), x=CHOICE),
    "utils.as_rng": E(lambda: dict(rng=0), rng=RNG),
    "utils.check_callable": E(lambda: dict(f=len, name="f"), f=CALLBACK),
    "utils.check_result": E(lambda: dict(out=np.ones(2), name="f", shape=(2,)),
                            out=Arr(names=("f",))),
    "utils.check_size": E(lambda: dict(shape=(3, 4), name="n"),
                          shape=Bad(("huge", (HUGE, HUGE)), names=("n",))),
    "utils.loglog_slope": E(lambda: dict(x=[1.0, 2.0, 4.0], y=[1.0, 0.5, 0.25]),
                            x=Arr(extra=[("non-positive", [0.0, 1.0, 2.0])]), y=Arr(match=(0,))),
    "utils.linear_rate": E(lambda: dict(errors=[1.0, 0.5, 0.25]),
                           errors=Arr(extra=[("non-positive", [1.0, 0.0])])),
    "utils.GrowthMonitor": E(lambda: dict(solver="gd", quantity="the gradient", step=0.1, L=2.0),
                             L=Num(sign="nonneg"), factor=POS),
    "utils.warn_divergence": E(lambda: dict(solver="gd", detail="d", advice="a"),
                               call=lambda f, **kw: _quietly(f, **kw)),

    # ------------------------------------------------------------------ plotting, widgets
    "plotting.use_style": E(lambda: dict()),
    "plotting.subplots": E(lambda: dict(ncols=2, nrows=1, width=3.0, height=2.0),
                           ncols=COUNT, nrows=COUNT, width=POS, height=POS),
    "plotting.loglog_fit": E(lambda: dict(ax=axes(), x=[1.0, 2.0, 4.0, 8.0],
                                          y=[1.0, 0.5, 0.25, 0.125], label="a"),
                             ax=BAD_AX, x=Arr(extra=[("non-positive", [0.0, 1.0, 2.0, 3.0])]),
                             y=Arr(match=(0,))),
    "plotting.semilogy_rate": E(lambda: dict(ax=axes(), errors=[1.0, 0.5, 0.25]), ax=BAD_AX,
                                errors=Arr(extra=[("non-positive", [1.0, 0.0])])),
    "plotting.convergence": E(lambda: dict(ax=axes(), errors=[1.0, 0.5, 0.25]), ax=BAD_AX,
                              errors=ARR),
    "plotting.path": E(lambda: dict(ax=axes(), iterates=np.ones((3, 2))), ax=BAD_AX, iterates=ARR),
    "plotting.decision_boundary": E(lambda: dict(ax=axes(), predict=lambda Z: 1 / (1 + np.exp(-Z[:, 0])),
                                                 X=A43()[:, :2], y=np.array([0, 1, 1, 0]),
                                                 n_grid=5),
                                    ax=BAD_AX, predict=FN, X=Arr(empty=True), y=Arr(match=(0,)),
                                    n_grid=HCOUNT),
    "plotting.level_sets": E(lambda: dict(ax=axes(), f=lambda Z: np.sum(Z * Z, axis=1),
                                          xlim=(-1.0, 1.0), ylim=(-1.0, 1.0), n_grid=5),
                             ax=BAD_AX, f=FN, n_grid=HCOUNT,
                             xlim=Bad(("one number", 1.0), ("NaN", (np.nan, 1.0)), ("text", "ab"),
                                      ("empty interval", (1.0, 1.0))),
                             ylim=Bad(("one number", 1.0), ("inf", (0.0, np.inf)))),
    "widgets.static_panels": E(lambda: dict(draw=lambda ax, v: None, values=[1, 2], fmt="{}",
                                            width=2.0, height=2.0),
                               draw=CALLBACK, width=POS, height=POS,
                               values=Bad(("empty", []), ("not iterable", 3), ("None", None)),
                               fmt=Bad(("not text", 3))),
    "widgets.slider_figure": E(lambda: dict(draw=lambda ax, v: None, values=[1, 2],
                                            interactive=False),
                               draw=CALLBACK, values=Bad(("empty", []), ("not iterable", 3))),
})


REGISTRY.update({
    # ------------------------------------------------------------------ attention (chapter 8)
    "attention.naive_attention": E(lambda: dict(zip("QKV", (np.asarray(t) for t in torch_qkv())),
                                                causal=True),
                                   Q=Arr(ndim=False), K=Arr(ndim=False, match=(1,)),
                                   V=Arr(ndim=False, match=(1,))),
    "attention.flash_attention": E(lambda: dict(zip("QKV", (np.asarray(t) for t in torch_qkv())),
                                                causal=False, block_size=2),
                                   Q=Arr(ndim=False), K=Arr(ndim=False, match=(1,)),
                                   V=Arr(ndim=False, match=(1,)), block_size=COUNT),
    "attention.online_softmax": E(lambda: dict(x=A43(), block_size=2),
                                  x=Arr(ndim=False, extra=[("empty last axis", np.ones((2, 0)))]),
                                  block_size=COUNT),

    # ------------------------------------------------------------------ gpt (chapter 8)
    "gpt.windows": E(lambda: dict(ids=np.arange(10) % 5, context=3), context=COUNT,
                     ids=BAD_IDS),
    "gpt.gpt": E(lambda: dict(vocab_size=5, d_model=4, n_heads=2, n_layers=1, context=6, d_ff=8,
                              positions="rope"),
                 vocab_size=HCOUNT, d_model=HCOUNT, n_heads=COUNT, n_layers=HCOUNT, context=HCOUNT,
                 d_ff=HCOUNT, positions=Choice(none_ok=True)),
    "gpt.parameter_count": E(lambda: dict(vocab_size=5, d_model=4, n_layers=1, context=6, d_ff=8,
                                          positions="learned"),
                             vocab_size=COUNT, d_model=COUNT, n_layers=COUNT, context=COUNT,
                             d_ff=COUNT, positions=Choice(none_ok=True)),
    "gpt.flops_per_token": E(lambda: dict(vocab_size=5, d_model=4, n_layers=1, context=6, d_ff=8),
                             vocab_size=COUNT, d_model=COUNT, n_layers=COUNT, context=COUNT,
                             d_ff=COUNT),
    "gpt.ngram_cross_entropy": E(lambda: dict(train=np.arange(20) % 5, test=np.arange(6) % 5,
                                              order=2, vocab_size=5, k=0.5),
                                 train=BAD_IDS, order=COUNT,  # a 1-token test is scored
                                 test=Bad(*[p for p in BAD_IDS.extra if p[0] != "too short"]),
                                 vocab_size=Num(sign="pos", integer=True, extra=[("1", 1)]),
                                 k=POS),
    "gpt.cross_entropy": E(lambda: dict(model=tiny_gpt(), ids=np.arange(13) % 5, context=4,
                                        batch_size=2),
                           model=MODEL, ids=BAD_IDS, context=COUNT, batch_size=COUNT),
    "gpt.generate": E(lambda: dict(model=tiny_gpt(), prompt=np.array([0, 1]), n_new=3,
                                   temperature=0.7, seed=0, cache=True),
                      model=MODEL, n_new=COUNT, temperature=POS, seed=SEED,
                      prompt=Bad(("float ids", np.array([0.5, 1.0])), ("id >= vocab", np.array([5])),
                                 ("empty", np.array([], dtype=int)), ("2-D", np.zeros((1, 2), int)),
                                 ("None", None))),
    "nets.apply_rope": E(lambda: dict(x=torch_qkv()[0], offset=2, base=100.0),
                         x=Tens(extra=[("odd last axis", torch.ones(1, 3, 3))]), offset=COUNT0,
                         base=POS),

    # ------------------------------------------------------------------ ssm (chapter 8)
    "ssm.linear_recurrence": E(lambda: dict(a=np.full((5, 2), 0.5), b=np.ones((5, 2))),
                               a=Arr(match=(0,)), b=Arr(empty=True)),
    "ssm.parallel_scan": E(lambda: dict(a=np.full((5, 2), 0.5), b=np.ones((5, 2))),
                           a=Arr(match=(0,)), b=Arr(empty=True)),
    "ssm.convolution_kernel": E(lambda: dict(a=np.array([0.5, -0.2]), n=4), a=ANY, n=HCOUNT),
    "ssm.causal_convolution": E(lambda: dict(k=0.5 ** np.arange(5.0), b=np.ones(5)),
                                k=Arr(ndim="missing", match=(0,)), b=Arr(empty=True)),
    "ssm.selective_scan": E(lambda: selective_inputs(),
                            x=ARR, delta=Arr(match=(0, 1), extra=[("delta <= 0", -np.ones((4, 2)))]),
                            A=Arr(match=(0,), extra=[("A >= 0", np.ones((2, 3)))]),
                            B=Arr(match=(0, 1)), C=Arr(match=(0, 1))),
    "ssm.selective_scan_loop": E(lambda: selective_inputs(),
                                 x=ARR, delta=Arr(match=(0, 1)), A=Arr(match=(0,)),
                                 B=Arr(match=(0, 1)), C=Arr(match=(0, 1))),
    "ssm.SelectiveSSM": E(lambda: dict(d_model=4, d_state=3, selective=True),
                          d_model=HCOUNT, d_state=HCOUNT),
    "ssm.SelectiveSSM.forward": E(lambda: dict(x=torch_qkv()[0]),
                                  call=lambda cls, x: cls(4, 3)(x), x=Tens()),
    "ssm.SSMModel": E(lambda: dict(vocab_size=5, d_model=4, n_layers=1, d_state=3),
                      vocab_size=HCOUNT, d_model=HCOUNT, n_layers=HCOUNT, d_state=HCOUNT),
    "ssm.SSMModel.forward": E(lambda: dict(tokens=torch.tensor([[0, 1, 4]])),
                              call=lambda cls, tokens: cls(5, 4, 1)(tokens),
                              tokens=Bad(("float tokens", torch.tensor([[0.0, 1.0]])),
                                         ("1-D", torch.tensor([0, 1])),
                                         ("negative token", torch.tensor([[0, -1]])),
                                         ("token >= vocab_size", torch.tensor([[0, 5]])))),

    # ------------------------------------------------------------------ tokenizer (chapter 8)
    "tokenizer.BPETokenizer": E(lambda: dict()),
    "tokenizer.BPETokenizer.train": E(lambda: dict(text="aaabdaaabac", vocab_size=258),
                                      call=lambda cls, text, vocab_size: cls().train(text, vocab_size),
                                      text=BAD_TEXT,
                                      vocab_size=Num(sign="pos", integer=True, huge=True,
                                                     extra=[("below 256", 255)])),
    "tokenizer.BPETokenizer.encode": E(lambda: dict(text="aab"), text=Bad(("bytes", b"ab"),
                                                                        ("number", 3), ("None", None)),
                                       call=lambda cls, text: cls().train("aaabdaaab", 258).encode(text)),
    "tokenizer.BPETokenizer.decode": E(lambda: dict(ids=[97, 256]),
                                       call=lambda cls, ids: cls().train("aaabdaaab", 258).decode(ids),
                                       ids=Bad(("text", "ab"), ("id >= vocab_size", [300]),
                                               ("negative id", [-1]), ("float id", [97.5]),
                                               ("None", None))),
    "tokenizer.RegexTokenizer": E(lambda: dict(pattern=r"\w+|\s+"),
                                  pattern=Bad(("invalid regex", "("), ("empty", ""), ("number", 3))),
    "tokenizer.naive_merges": E(lambda: dict(ids=list(b"aaabdaaabac"), n_merges=2),
                                ids=Bad(("not a sequence", 3), ("float ids", [97.5, 98.0]),
                                        ("negative id", [-1, 97]), ("text", "ab"), ("None", None)),
                                n_merges=Num(sign="nonneg", integer=True,
                                             extra=[("more than possible", 50)])),
})


# ---- chapters 4-6, revision of issue 15 (nets.he_init, scalings.tangent_kernel, ode: checkpointing
# and the neural-ODE field)
REGISTRY.update({
    "nets.he_init": E(lambda: dict(model=tiny_net(), seed=0), model=MODEL, seed=SEED),
    "scalings.tangent_kernel": E(lambda: dict(x=A43(), W=np.ones((2, 3)), a=np.ones(2),
                                              scaling="ntk", activation="tanh"),
                                 x=Arr(ndim=False, empty=True), W=Arr(match=(1,), names=("x",)),
                                 a=Arr(match=(0,)), scaling=CHOICE, activation=CHOICE),
    "ode.checkpointed_gradient": E(_ode(loss=tensor_loss, method="midpoint", segment=2),
                                   loss=Fn(complex=False), segment=COUNT,
                                   **{**ODE, "f": Fn(complex=False)}),
    "ode.mlp_field": E(lambda: dict(x=np.ones(2), theta=np.full(12, 0.1)),
                       x=Arr(match=(0,)), theta=Arr(match=(0,))),
    "ode.mlp_field_vjp": E(lambda: dict(x=np.ones(2), theta=np.full(12, 0.1), a=np.ones(2)),
                           x=Arr(match=(0,)), theta=Arr(match=(0,)), a=Arr(match=(0,))),
    "ode.mlp_field_init": E(lambda: dict(d=2, hidden=3, rng=0, scale=0.1),
                            d=HCOUNT, hidden=HCOUNT, rng=RNG, scale=POS),
})


# ---- chapter 7 entries (sampling, ... go here; ot is registered above)

def chains0():
    return np.array([[0.5, -0.2], [1.0, 0.3]])


def quad_V(x):
    return 0.5 * np.sum(np.asarray(x) ** 2, axis=-1)


def quad_grad(x):
    return np.asarray(x, dtype=np.float64).copy()


def mc_chain():
    return np.random.default_rng(0).standard_normal((12, 2))


def ising4():
    from course_lib.sampling import ising_couplings
    return ising_couplings(2, periodic=False)


def spins4():
    return np.array([[1.0, -1.0, 1.0, 1.0], [-1.0, -1.0, 1.0, -1.0]])


def gmm_args():
    return dict(weights=np.array([0.3, 0.7]), means=np.array([[0.0, 0.0], [2.0, 1.0]]),
                covs=np.stack([np.eye(2), 0.5 * np.eye(2)]))


def tiny_timemlp(**kw):
    from course_lib.diffusion import TimeMLP
    torch.manual_seed(0)
    return TimeMLP(2, width=8, depth=1, n_freq=2, **kw)


def pts2():
    return np.array([[0.5, -0.2], [1.0, 0.3], [-0.4, 0.8]])


def tens2():
    return torch.tensor([[0.5, -0.2], [1.0, 0.3], [-0.4, 0.8]])


def vp():
    from course_lib.diffusion import vp_schedule
    return vp_schedule()


CHAINS = Arr(ndim="extra")                    # (d,) or (m, d): a missing axis is valid
BAD_SCHEDULE = Bad(("text", "vp"), ("number", 3), ("None", None))
TIME = Num(sign="nonneg", upper=1.0)          # a time in [0, 1]
BAD_GMM = dict(weights=Arr(extra=[("negative weight", np.array([1.2, -0.2])),
                                  ("not summing to 1", np.array([0.3, 0.3]))]),
               means=Arr(match=(0,)),
               covs=Arr(match=(0, 1, 2), extra=[
                   ("not symmetric", np.stack([np.eye(2), [[1.0, 0.5], [0.0, 1.0]]])),
                   ("not positive definite", np.stack([np.eye(2), -np.eye(2)]))]))
BAD_LABELS3 = Bad(("fractional label", np.array([0.5, 1.0])), ("negative label", np.array([-1, 0])),
                  ("label >= n_classes", np.array([3, 0])), ("NaN label", np.array([np.nan, 0.0])),
                  ("text", "a"))     # one per row of x, whose number the field learns only later
H_FIELD = Arr(match=(0,), none_ok=True)       # h = None means no external field (h = 0)
BAD_PATH = Arr(extra=[("one time point", np.ones((1, 2, 2))), ("does not move", np.ones((3, 2, 2)))])


def _path():
    return np.cumsum(np.random.default_rng(0).standard_normal((4, 3, 2)), axis=0)


REGISTRY.update({
    # ------------------------------------------------------------------ sampling (chapter 7)
    "sampling.ula": E(lambda: dict(grad_V=quad_grad, x0=chains0(), step=0.1, n_steps=3, rng=0,
                                   temperature=1.0, keep_every=1),
                      grad_V=FN, x0=CHAINS, step=POS, n_steps=HCOUNT, rng=RNG, temperature=POS,
                      keep_every=COUNT),
    "sampling.mala": E(lambda: dict(V=quad_V, grad_V=quad_grad, x0=chains0(), step=0.1, n_steps=3,
                                    rng=0, temperature=1.0, keep_every=1),
                       V=FN, grad_V=FN, x0=CHAINS, step=POS, n_steps=HCOUNT, rng=RNG,
                       temperature=POS, keep_every=COUNT),
    "sampling.mala_log_proposal": E(lambda: dict(y=chains0()[::-1], x=chains0(), grad_V=quad_grad,
                                                 step=0.1, temperature=1.0),
                                    y=Arr(names=("x",)), x=Arr(names=("y",)), grad_V=FN, step=POS,
                                    temperature=POS),
    "sampling.mh_acceptance": E(lambda: dict(log_pi_x=X3(), log_pi_y=-X3(), log_q_y_given_x=X3(),
                                             log_q_x_given_y=X3() / 2),
                                log_pi_x=ANY, log_pi_y=ANY, log_q_y_given_x=ANY, log_q_x_given_y=ANY),
    "sampling.metropolis_hastings": E(lambda: dict(log_pi=lambda x: -quad_V(x),
                                                   propose=lambda x, g: x + g.standard_normal(x.shape),
                                                   log_q=lambda y, x: -quad_V(y - x),
                                                   x0=chains0(), n_steps=3, rng=0),
                                      log_pi=FN, propose=FN, log_q=FN, x0=CHAINS, n_steps=HCOUNT,
                                      rng=RNG),
    "sampling.transition_times": E(lambda: dict(grad_V=lambda x: x**3 - x, x0=np.array([-1.0, 1.0]),
                                                step=0.05, n_steps=3, level=0.5, rng=0),
                                   grad_V=FN, x0=Arr(extra=[("inside the band", [0.0, 1.0])]),
                                   step=POS, level=POS, rng=RNG, temperature=POS,
                                   n_steps=COUNT),   # sizes no array: a long run, not a big one
    "sampling.mean_first_passage_time": E(lambda: dict(V=lambda x: x**4 / 4 - x**2 / 2, a=-1.0,
                                                       b=1.0, temperature=0.5, lower=None, n_grid=101),
                                          V=FN, a=REAL, b=Num(extra=[("b <= a", -2.0)]),
                                          temperature=POS, lower=Num(extra=[("lower >= a", 0.0)]),
                                          n_grid=HCOUNT),
    "sampling.mh_transition_matrix": E(lambda: dict(pi=np.array([0.2, 0.3, 0.5]),
                                                    Q=np.full((3, 3), 1 / 3)),
                                       pi=Arr(extra=[("negative entry", [0.5, -0.1, 0.6]),
                                                     ("zero entry", [0.5, 0.0, 0.5])]),
                                       Q=Arr(match=(0, 1), extra=[("not stochastic", np.eye(3) * 2)])),
    "sampling.stationary_distribution": E(lambda: dict(P=np.array([[0.5, 0.5], [0.2, 0.8]])),
                                          P=Arr(extra=[("not square", np.full((2, 3), 1 / 3)),
                                                       ("not stochastic", np.eye(2) * 2)])),
    "sampling.boltzmann_energy": E(lambda: dict(s=spins4()[0], J=ising4(), h=np.ones(4)),
                                   s=Arr(ndim="missing", extra=[("not a spin", [1.0, 0.5, 1, 1])]),
                                   J=Arr(extra=[("not symmetric", np.triu(ising4()))]),
                                   h=Arr(match=(0,))),
    "sampling.ising_couplings": E(lambda: dict(L=3, periodic=True), L=HCOUNT),
    "sampling.gibbs_boltzmann": E(lambda: dict(J=ising4(), h=np.zeros(4), beta=0.5, s0=spins4(),
                                               n_sweeps=2, rng=0),
                                  J=ARR, h=H_FIELD, beta=NONNEG, s0=Arr(ndim="extra"),
                                  n_sweeps=HCOUNT, rng=RNG),
    "sampling.enumerate_boltzmann": E(lambda: dict(J=ising4(), h=np.zeros(4), beta=0.5),
                                      J=ARR, h=H_FIELD, beta=NONNEG),
    "sampling.autocorrelation": E(lambda: dict(x=mc_chain(), max_lag=3),
                                  x=Arr(ndim="extra", extra=[("constant", np.ones((12, 2))),
                                                             ("3 steps", np.ones((3, 2)))]),
                                  max_lag=COUNT0),
    "sampling.effective_sample_size": E(lambda: dict(x=mc_chain()), x=Arr(ndim="extra")),
    "sampling.mc_standard_error": E(lambda: dict(x=mc_chain()), x=Arr(ndim="extra")),

    # ------------------------------------------------------------------ diffusion (chapter 7)
    "diffusion.vp_schedule": E(lambda: dict(beta_min=0.1, beta_max=20.0), beta_min=POS,
                               beta_max=Num(sign="pos", extra=[("below beta_min", 0.05)])),
    "diffusion.ve_schedule": E(lambda: dict(sigma_min=0.01, sigma_max=10.0), sigma_min=POS,
                               sigma_max=Num(sign="pos", extra=[("below sigma_min", 0.005)])),
    "diffusion.NoiseSchedule": E(lambda: dict(kind="vp", params=(0.1, 20.0)), kind=CHOICE,
                                 params=Bad(("text", "ab"), ("one value", (0.1,)),
                                            ("NaN", (np.nan, 1.0)), ("negative", (-1.0, 1.0)),
                                            ("decreasing", (2.0, 1.0)), ("None", None))),
    "diffusion.NoiseSchedule.sigma": E(lambda: dict(t=np.array([0.2, 0.5])),
                                       call=lambda cls, t: vp().sigma(t),
                                       t=Arr(ndim=False, extra=[("t > 1", 1.5), ("t < 0", -0.1)])),
    "diffusion.gmm_sample": E(lambda: dict(n=5, rng=0, **gmm_args()), n=HCOUNT, rng=RNG, **BAD_GMM),
    "diffusion.gmm_logpdf": E(lambda: dict(x=pts2(), **gmm_args()),
                              x=Arr(match=(1,), empty=True), **BAD_GMM),
    "diffusion.gmm_score": E(lambda: dict(x=pts2(), **gmm_args()),
                             x=Arr(match=(1,), empty=True), **BAD_GMM),
    "diffusion.gmm_noised": E(lambda: dict(alpha=0.5, sigma=0.5, **gmm_args()),
                              alpha=NONNEG, sigma=NONNEG, **BAD_GMM),
    "diffusion.gmm_marginal_score": E(lambda: dict(schedule=vp(), **gmm_args()),
                                      schedule=BAD_SCHEDULE, **BAD_GMM),
    "diffusion.gmm_marginal_score[the field]": E(
        lambda: dict(x=pts2(), t=0.5),
        call=lambda f, x, t: f(schedule=vp(), **gmm_args())(x, t),
        x=Arr(match=(1,), empty=True), t=TIME),
    "diffusion.gmm_posterior_mean": E(lambda: dict(x=pts2(), alpha=0.5, sigma=0.5, **gmm_args()),
                                      x=Arr(match=(1,), empty=True), alpha=NONNEG, sigma=POS,
                                      **BAD_GMM),
    "diffusion.gmm_flow_velocity": E(lambda: gmm_args(), **BAD_GMM),
    "diffusion.gmm_flow_velocity[the field]": E(
        lambda: dict(x=pts2(), t=0.3), call=lambda f, x, t: f(**gmm_args())(x, t),
        x=Arr(match=(1,), empty=True), t=TIME),
    "diffusion.tweedie": E(lambda: dict(x=pts2(), t=0.5, score=lambda x, t: -x, schedule=vp()),
                           x=Arr(empty=True), t=TIME, score=FN, schedule=BAD_SCHEDULE),
    "diffusion.reverse_sde_sample": E(lambda: dict(score=lambda x, t: -x, x=pts2(), schedule=vp(),
                                                   n_steps=3, t_min=1e-3, t_max=1.0, rng=0),
                                      score=FN, x=Arr(empty=True), schedule=BAD_SCHEDULE,
                                      n_steps=HCOUNT, t_min=Num(sign="nonneg", upper=1.0,
                                                                extra=[("t_min >= t_max", 1.0)]),
                                      t_max=Num(sign="pos", upper=1.0), rng=RNG),
    "diffusion.probability_flow_sample": E(lambda: dict(score=lambda x, t: -x, x=pts2(),
                                                        schedule=vp(), n_steps=3, method="heun",
                                                        t_min=1e-3, t_max=1.0),
                                           score=FN, x=Arr(empty=True), schedule=BAD_SCHEDULE,
                                           n_steps=HCOUNT, method=CHOICE,
                                           t_min=Num(sign="nonneg", upper=1.0,
                                                     extra=[("t_min >= t_max", 1.0)]),
                                           t_max=Num(sign="pos", upper=1.0)),
    "diffusion.edm_sigmas": E(lambda: dict(n_steps=4, sigma_min=0.002, sigma_max=80.0, rho=7.0),
                              n_steps=HCOUNT, sigma_min=POS, rho=POS,
                              sigma_max=Num(sign="pos", extra=[("below sigma_min", 0.001)])),
    "diffusion.edm_sample": E(lambda: dict(score_sigma=lambda x, s: -x / (1 + s**2), x=pts2(),
                                           sigmas=np.array([2.0, 1.0, 0.5, 0.0])),
                              score_sigma=FN, x=Arr(empty=True),
                              sigmas=Arr(extra=[("increasing", [0.5, 1.0, 2.0]),
                                                ("one level", [1.0]), ("negative", [1.0, -0.5])])),
    "diffusion.flow_matching_sample": E(lambda: dict(velocity=lambda x, t: -x, x=pts2(),
                                                     n_steps=3, method="heun"),
                                        velocity=FN, x=Arr(empty=True), n_steps=HCOUNT,
                                        method=CHOICE),
    "diffusion.straightness": E(lambda: dict(path=_path()), path=BAD_PATH),
    "diffusion.path_length_ratio": E(lambda: dict(path=_path()), path=BAD_PATH),
    "diffusion.TimeMLP": E(lambda: dict(dim=2, width=8, depth=1, n_freq=2, n_classes=3),
                           dim=HCOUNT, width=HCOUNT, depth=HCOUNT, n_freq=HCOUNT, n_classes=HCOUNT),
    "diffusion.TimeMLP.forward": E(lambda: dict(x=tens2(), t=0.5),
                                   call=lambda cls, x, t: tiny_timemlp()(x, t),
                                   x=Tens(), t=TIME),
    "diffusion.dsm_loss": E(lambda: dict(model=tiny_timemlp(), x0=tens2(), schedule=vp(),
                                         eps=torch.ones(3, 2), t_min=1e-3),
                            model=MODEL, x0=Tens(), schedule=BAD_SCHEDULE, eps=Tens(),
                            t_min=Num(sign="nonneg", upper=0.5)),
    "diffusion.fm_loss": E(lambda: dict(model=tiny_timemlp(), x1=tens2(), x0=torch.ones(3, 2),
                                        coupling="ot"),
                           model=MODEL, x1=Tens(), x0=Tens(), coupling=CHOICE),
    "diffusion.ot_pairing": E(lambda: dict(x0=tens2(), x1=-tens2()),
                              x0=Tens(names=("x1",)), x1=Tens(names=("x0",))),
    "diffusion.train": E(lambda: dict(model=tiny_timemlp(), X=pts2(), n_steps=2, objective="dsm",
                                      schedule=vp(), p_uncond=0.1, batch_size=4, lr=1e-2,
                                      t_min=1e-3, seed=0, progress=False, coupling="independent"),
                         model=MODEL, X=Arr(empty=True), n_steps=HCOUNT, objective=CHOICE,
                         schedule=BAD_SCHEDULE, p_uncond=Num(sign="nonneg", upper=1.0),
                         batch_size=HCOUNT, lr=POS, t_min=Num(sign="nonneg", upper=0.5), seed=SEED,
                         coupling=CHOICE),
    "diffusion.train[with labels]": E(lambda: dict(model=tiny_timemlp(n_classes=3), X=pts2(),
                                                   y=np.array([0, 2, 1]), n_steps=2, objective="fm",
                                                   batch_size=4, progress=False),
                                      y=Bad(*BAD_LABELS3.extra, ("one label too few", np.array([0, 2])))),
    # (y=None is valid: the labelled model trained unconditionally)
    "diffusion.score_function": E(lambda: dict(model=tiny_timemlp(n_classes=3), schedule=vp(),
                                               y=np.array([0, 2, 1]), guidance=1.0),
                                  model=MODEL, schedule=BAD_SCHEDULE, y=BAD_LABELS3,
                                  guidance=NONNEG),
    "diffusion.score_function[the field]": E(
        lambda: dict(x=pts2(), t=0.5),
        call=lambda f, x, t: f(tiny_timemlp(), vp())(x, t), x=Arr(match=(1,), empty=True), t=TIME),
    "diffusion.velocity_function": E(lambda: dict(model=tiny_timemlp(n_classes=3),
                                                  y=np.array([0, 2, 1]), guidance=1.0),
                                     model=MODEL, y=BAD_LABELS3, guidance=NONNEG),
    "diffusion.velocity_function[the field]": E(
        lambda: dict(x=pts2(), t=0.5),
        call=lambda f, x, t: f(tiny_timemlp())(x, t), x=Arr(match=(1,), empty=True), t=TIME),
})


# ---- chapter 9 entries (mixtures, vae, flows, gan, ... go here)


def _gmm():
    return dict(X=A43()[:, :2], weights=np.array([0.3, 0.7]),
                means=np.array([[0.0, 0.0], [1.0, 1.0]]),
                covs=np.stack([np.eye(2), np.array([[1.0, 0.2], [0.2, 0.5]])]))


GMM = dict(X=Arr(empty=True), weights=Arr(extra=[("negative weight", np.array([1.2, -0.2])),
                                                 ("sum not 1", np.array([0.3, 0.3]))]),
           means=Arr(match=(0, 1), names=("weights", "X", "covs")),
           covs=Arr(match=(0,), names=("weights", "means"),
                    extra=[("not positive definite", np.stack([np.eye(2), -np.eye(2)]))]))


def _vae_x():
    return torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])


def _critic2():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))


def _gen2():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))


def _x2():
    return torch.tensor([[0.0, 1.0], [1.0, 0.5], [-1.0, 0.2], [0.3, 0.3]])


def _gan_step():
    from course_lib.nets import Optimizer
    G, D = _gen2(), _critic2()
    return dict(generator=G, critic=D, x_real=_x2(), opt_g=Optimizer(G.parameters(), "sgd", 0.1),
                opt_c=Optimizer(D.parameters(), "sgd", 0.1), loss="gan", n_critic=1)


REGISTRY.update({
    "mixtures.gaussian_logpdf": E(lambda: dict(X=A43()[:, :2], mean=np.zeros(2), cov=np.eye(2)),
                                  X=Arr(empty=True), mean=Arr(match=(0,), names=("X",)),
                                  cov=Arr(match=(0, 1), names=("mean",),
                                          extra=[("not positive definite", -np.eye(2))])),
    "mixtures.gaussian_kl": E(lambda: dict(m1=np.zeros(2), S1=np.eye(2), m2=np.ones(2),
                                           S2=2 * np.eye(2)),
                              m1=ARR, S1=Arr(match=(0, 1), names=("m1",)),
                              m2=Arr(match=(0,), names=("m1",)),
                              S2=Arr(match=(0, 1), names=("m1",))),
    "mixtures.gaussian_mle": E(lambda: dict(X=A43()), X=Arr(empty=True)),
    "mixtures.gmm_logpdf": E(_gmm, **GMM),
    "mixtures.gmm_log_likelihood": E(_gmm, **GMM),
    "mixtures.e_step": E(_gmm, **GMM),
    "mixtures.m_step": E(lambda: dict(X=A43()[:, :2], resp=np.full((4, 2), 0.5), reg_covar=1e-6),
                         X=Arr(empty=True),
                         resp=Arr(match=(0,), names=("X",),
                                  extra=[("rows not summing to 1", np.full((4, 2), 0.4))]),
                         reg_covar=NONNEG),
    "mixtures.em": E(lambda: dict(**_gmm(), n_iter=3, tol=1e-6, reg_covar=1e-6), **GMM,
                     n_iter=COUNT, tol=NONNEG, reg_covar=NONNEG),  # a cap: stops early
    "mixtures.init_params": E(lambda: dict(X=A43(), k=2, rng=0, reg_covar=1e-6),
                              X=Arr(empty=True), k=Num(sign="pos", integer=True, huge=True),
                              rng=RNG, reg_covar=NONNEG),
    "mixtures.gmm_sample": E(lambda: dict(n=5, **{k: v for k, v in _gmm().items() if k != "X"},
                                          rng=0),
                             n=HCOUNT, rng=RNG,
                             **{k: v for k, v in GMM.items() if k != "X"}),
    "vae.reparametrize": E(lambda: dict(mu=torch.zeros(2, 3), logvar=torch.zeros(2, 3),
                                        eps=torch.ones(2, 3)),
                           mu=Tens(), logvar=Tens(names=("mu",)), eps=Tens(names=("mu",))),
    "vae.gaussian_kl": E(lambda: dict(mu=torch.zeros(2, 3), logvar=torch.zeros(2, 3)),
                         mu=Tens(), logvar=Tens(names=("mu",))),
    "vae.VAE": E(lambda: dict(encoder=torch.nn.Linear(3, 4), decoder=torch.nn.Linear(2, 3), q=2),
                 encoder=MODEL, decoder=MODEL, q=HCOUNT, likelihood=CHOICE),
    "vae.VAE.elbo": E(lambda: dict(x=_vae_x(), n_samples=2),
                      call=lambda cls, x, n_samples: _mlp_vae().elbo(x, n_samples),
                      x=Tens(), n_samples=HCOUNT),
    "vae.VAE.iwae": E(lambda: dict(x=_vae_x(), k=2),
                      call=lambda cls, x, k: _mlp_vae().iwae(x, k), x=Tens(), k=HCOUNT),
    "vae.mlp_vae": E(lambda: dict(d=3, q=2, hidden=4), d=HCOUNT, q=HCOUNT, hidden=HCOUNT,
                     likelihood=CHOICE),
    "vae.linear_vae": E(lambda: dict(d=3, q=2), d=HCOUNT, q=HCOUNT),
    "vae.ppca": E(lambda: dict(X=A43(), q=1), X=Arr(empty=True), q=COUNT),
    "vae.ppca_log_likelihood": E(lambda: dict(X=A43(), W=np.ones((3, 1)), b=np.zeros(3), s2=0.5),
                                 X=Arr(empty=True), W=Arr(match=(0,), names=("X",)),
                                 b=Arr(match=(0,), names=("X",)), s2=POS),
    "flows.AffineCoupling": E(lambda: dict(mask=np.array([1.0, 0.0]), hidden=4),
                              mask=Arr(extra=[("not 0/1", np.array([0.5, 1.0])),
                                              ("all kept", np.array([1.0, 1.0]))]),
                              hidden=HCOUNT),
    "flows.RealNVP": E(lambda: dict(d=2, n_layers=2, hidden=4), d=HCOUNT, n_layers=HCOUNT,
                       hidden=HCOUNT),
    "flows.RealNVP.log_prob": E(lambda: dict(x=_x2()), x=Tens(),
                                call=lambda cls, x: cls(2, 2, 4).log_prob(x)),
    "flows.jacobian_log_det": E(lambda: dict(f=lambda v: 2 * v, x=_x2().double()),
                                f=Fn(complex=False), x=Tens()),
    "flows.grid_integral": E(lambda: dict(log_density=lambda P: -(P**2).sum(1),
                                          xlim=(-1.0, 1.0), ylim=(-1.0, 1.0), n=4),
                             log_density=Fn(complex=False),
                             xlim=Arr(extra=[("decreasing", (1.0, -1.0))]),
                             ylim=Arr(extra=[("decreasing", (1.0, -1.0))]), n=HCOUNT),
    "energy.RBM": E(lambda: dict(n_visible=3, n_hidden=2, k=1), n_visible=HCOUNT,
                    n_hidden=HCOUNT, k=COUNT),  # k: Gibbs sweeps per step, allocates nothing
    "energy.RBM.free_energy": E(lambda: dict(v=_vae_x()), v=Tens(),
                                call=lambda cls, v: cls(3, 2).free_energy(v)),
    "energy.all_binary": E(lambda: dict(n=3), n=HCOUNT),
    "gan.kl_lower_bound": E(lambda: dict(t_p=torch.zeros(3), t_q=torch.ones(2)),
                            t_p=Tens(ndim=False), t_q=Tens(ndim=False)),
    "gan.js_lower_bound": E(lambda: dict(logit_p=torch.zeros(3), logit_q=torch.ones(2)),
                            logit_p=Tens(ndim=False), logit_q=Tens(ndim=False)),
    "gan.discriminator_loss": E(lambda: dict(logit_real=torch.zeros(3),
                                             logit_fake=torch.ones(2)),
                                logit_real=Tens(ndim=False), logit_fake=Tens(ndim=False)),
    "gan.generator_loss": E(lambda: dict(logit_fake=torch.ones(2)), logit_fake=Tens(ndim=False)),
    "gan.critic_gap": E(lambda: dict(f_real=torch.zeros(3), f_fake=torch.ones(2)),
                        f_real=Tens(ndim=False), f_fake=Tens(ndim=False)),
    "gan.optimal_discriminator": E(lambda: dict(p=np.array([0.5, 0.5]), q=np.array([0.2, 0.8])),
                                   p=ARR, q=Arr(match=(0,), names=("p",))),
    "gan.gradient_penalty": E(lambda: dict(critic=_critic2(), x_real=_x2(), x_fake=_x2() + 1),
                              critic=MODEL, x_real=Tens(), x_fake=Tens(names=("x_real",))),
    "gan.clip_weights": E(lambda: dict(critic=_critic2(), c=0.1), critic=MODEL, c=POS),
    "gan.w1_estimate": E(lambda: dict(critic=_critic2(), x_real=_x2(), x_fake=_x2() + 1),
                         critic=MODEL, x_real=Tens(), x_fake=Tens(names=("x_real",))),
    "gan.modes_covered": E(lambda: dict(samples=A43()[:, :2], centres=np.eye(2),
                                        min_fraction=0.25),
                           samples=Arr(empty=True), centres=Arr(match=(1,), names=("samples",)),
                           min_fraction=POS),
    "gan.gan_step": E(_gan_step, generator=MODEL, critic=MODEL, x_real=Tens(), loss=CHOICE,
                      n_critic=HCOUNT),
    "gan.train_gan": E(lambda: dict(generator=_gen2(), critic=_critic2(), X=A43()[:, :2],
                                    n_steps=2, batch_size=2, lr=1e-2, seed=0, progress=False),
                       generator=MODEL, critic=MODEL, X=Arr(empty=True), n_steps=HCOUNT,
                       batch_size=HCOUNT, lr=POS, seed=SEED, loss=CHOICE),
    "gan.train_critic": E(lambda: dict(critic=_critic2(), x_real=A43()[:, :2],
                                       sample_fake=lambda m: torch.zeros(m, 2), n_steps=2,
                                       batch_size=2, lr=1e-2, seed=0, progress=False),
                          critic=MODEL, x_real=Arr(empty=True), n_steps=HCOUNT,
                          batch_size=COUNT, lr=POS, seed=SEED,  # batch_size > n: full batch
                          sample_fake=Fn(complex=False)),
    "nets.Optimizer": E(lambda: dict(params=list(tiny_net().parameters()), name="sgd", lr=0.1,
                                     weight_decay=0.0, betas=(0.9, 0.999)),
                        name=CHOICE, lr=POS, weight_decay=NONNEG,
                        betas=Bad(("one beta", (0.9,)), ("beta >= 1", (1.5, 0.9)),
                                  ("NaN beta", (np.nan, 0.9)), ("None", None))),
})


def _mlp_vae():
    from course_lib.vae import mlp_vae
    torch.manual_seed(0)
    return mlp_vae(3, 2, hidden=4)


# ---- chapter 10 entries (diffusion, ... goes here)


def _quietly(f, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(**kw)


NOT_COVERED = {
    "checks": "a check fails with CheckFailed and a reason (not ValueError) on any bad answer: hostile "
              "answers are the subject of tests/test_checks.py (issue 10, first section)",
    "sheets": "generates student sheets from files: hostile notebooks are the subject of "
              "tests/test_sheets.py (issue 10, second section)",
    "grading": "drives nbgrader on folders of submissions: hostile and broken submissions are the "
               "subject of tests/test_grading.py",
    "ode.ODEGradient": "a result type (a NamedTuple) that the library builds, never validated",
    "timing.CostRatio": "a result type (a NamedTuple) that the library builds, never validated",
}

NOT_COVERED["autodiff.graph.Node"] = "the abstract base class of Var and Tensor: no arguments"
NOT_COVERED["mixtures.GMMFit"] = "a result type (a dataclass) that mixtures.em builds, never validated"


# ============================================================================ discovery


def _modules():
    """Every public module of course_lib (``autodiff.forward`` etc. too), private ones aside."""
    out = []
    for info in pkgutil.walk_packages(course_lib.__path__, prefix="course_lib."):
        name = info.name[len("course_lib."):]
        if not any(part.startswith("_") for part in name.split(".")):
            out.append(name)
    return sorted(out)


MODULES = _modules()


def _excluded(qualname):
    return any(qualname == k or qualname.startswith(k + ".") for k in NOT_COVERED)


def _public_callables():
    """``{"module.Name": object}`` for every callable of every module's ``__all__`` (warning and
    exception classes aside: they are raised, not called)."""
    out = {}
    for module in MODULES:
        mod = importlib.import_module(f"course_lib.{module}")
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if not callable(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue
            out[f"{module}.{name}"] = obj
    return out


PUBLIC = _public_callables()


def _base(key):
    """``"nets.MultiHeadAttention"`` for ``"nets.MultiHeadAttention.forward"`` or ``"nets.mlp[x]"``."""
    return ".".join(key.split("[")[0].split(".")[:2])


def _resolve(key):
    module, name = _base(key).split(".")
    return getattr(importlib.import_module(f"course_lib.{module}"), name)


REGISTERED = {id(_resolve(key)) for key in REGISTRY}


def test_every_module_declares_all():
    missing = [m for m in MODULES if not _excluded(m)
               and not hasattr(importlib.import_module(f"course_lib.{m}"), "__all__")]
    assert not missing, f"modules without __all__ (list every public name in it): {missing}"


def test_every_public_callable_is_registered():
    """A new public function (or a new module) must get an entry: see the module docstring."""
    missing = sorted(q for q, obj in PUBLIC.items()
                     if id(obj) not in REGISTERED and not _excluded(q))
    assert not missing, ("public callables with no entry in REGISTRY of tests/test_hostile_inputs.py "
                         "(nor a reason in NOT_COVERED): " + ", ".join(missing))


def test_registry_names_exist():
    stale = []
    for key in REGISTRY:
        try:
            _resolve(key)
        except AttributeError:
            stale.append(key)
    assert not stale, f"REGISTRY entries whose function no longer exists: {stale}"


# ============================================================================ the attacks


def _close_all():
    """Close the figures that an attack on a plotting function opened."""
    import sys
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    _close_all()


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_valid_call_succeeds(key):
    entry = REGISTRY[key]
    entry.run(_resolve(key), entry.valid())


def _optional(obj, arg):
    """True when ``None`` is the default of ``arg`` (then ``None`` is a valid value)."""
    try:
        p = inspect.signature(obj).parameters.get(arg)
    except (TypeError, ValueError):
        return False
    return p is not None and p.default is None


def _names_it(message, names):
    return any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", message) for n in names)


def _attack(entry, obj, kwargs, arg, names):
    """None if the call refuses the bad value loudly, else what went wrong."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = entry.run(obj, kwargs)
    except (ValueError, TypeError) as e:
        if _names_it(str(e), names):
            return None
        return f"{type(e).__name__} that does not name {arg!r}: {str(e)[:300]}"
    except Exception as e:  # noqa: BLE001 - any other exception is the failure being reported
        return f"{type(e).__name__} (expected ValueError naming {arg!r}): {str(e)[:300]}"
    return f"returned silently: {repr(out)[:160]}"


ATTACKS = [(key, arg) for key in sorted(REGISTRY) for arg in REGISTRY[key].kinds]


@pytest.mark.parametrize("key, arg", ATTACKS, ids=[f"{k}-{a}" for k, a in ATTACKS])
@settings(max_examples=MAX_EXAMPLES, suppress_health_check=list(HealthCheck), database=None,
          phases=(Phase.generate,))  # no shrinking: the report lists every family that got through
@given(data=st.data())
def test_hostile_argument_is_refused(key, arg, data):
    entry, obj = REGISTRY[key], _resolve(key)
    kind = entry.kinds[arg]
    optional = entry.call is None and _optional(obj, arg)
    problems = []
    for label, strategy in kind.families(entry.valid().get(arg), optional):
        kwargs = entry.valid()
        kwargs[arg] = data.draw(strategy, label=f"{arg} ({label})")
        problem = _attack(entry, obj, kwargs, arg, (arg,) + kind.names)
        if problem:
            problems.append(f"  {arg} = <{label}>: {problem}")
        _close_all()
    assert not problems, f"{key} let bad input through:\n" + "\n".join(problems)


# Hypothesis (6.170) wraps the settings of a @given test in one more layer at each call of a
# parametrized test, so that after ~1 000 of the calls above reading them recurses too deep
# (a RecursionError in every later call). Put the settings back after each call.
_SETTINGS = getattr(test_hostile_argument_is_refused, "_hypothesis_internal_use_settings", None)


@pytest.fixture(autouse=True)
def _fresh_hypothesis_settings():
    yield
    if _SETTINGS is not None:
        test_hostile_argument_is_refused._hypothesis_internal_use_settings = _SETTINGS
