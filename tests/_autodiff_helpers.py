"""Helpers shared by the tests of the ``course_lib.autodiff`` engines: torch in float64, scalar
programs with their domains (each run on ``Var``, ``Dual`` and torch), and torch references."""
import pytest
import torch
from hypothesis import settings
from hypothesis import strategies as st


@pytest.fixture(autouse=True)
def float64_torch():
    """torch in float64 for these tests only (the default dtype is process-wide state)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
positive = st.floats(0.1, 3.0, allow_nan=False, allow_infinity=False)
nonzero = finite.filter(lambda t: abs(t) > 0.05)
FAST = settings(max_examples=25, deadline=None)


def torch_grads(fun, *values):
    """Value and gradient of a scalar function of scalars by torch.autograd."""
    ts = [torch.tensor(float(v), requires_grad=True) for v in values]
    out = fun(*ts)
    grads = torch.autograd.grad(out, ts, allow_unused=True)
    return out.item(), [0.0 if g is None else g.item() for g in grads]


UNARY = {
    "neg": (lambda u: -u, finite),
    "exp": (lambda u: u.exp(), finite),
    "log": (lambda u: u.log(), positive),
    "tanh": (lambda u: u.tanh(), finite),
    "relu": (lambda u: u.relu(), nonzero),
    "square": (lambda u: u**2, finite),
    "cube": (lambda u: u**3, finite),
    "sqrt": (lambda u: u**0.5, positive),
    "pow-1.5": (lambda u: u**-1.5, positive),
    "2**u": (lambda u: 2.0**u, finite),
    "add-number": (lambda u: 3.0 + u + 2, finite),
    "sub-number": (lambda u: 1.5 - u - 0.5, finite),
    "mul-number": (lambda u: 2.5 * u * -3, finite),
    "div-number": (lambda u: u / 4.0, finite),
    "number-div": (lambda u: 2.0 / u, nonzero),
}
BINARY = {
    "add": (lambda u, w: u + w, finite),
    "sub": (lambda u, w: u - w, finite),
    "mul": (lambda u, w: u * w, finite),
    "div": (lambda u, w: u / w, nonzero),
    "pow": (lambda u, w: u**w, positive),
}


def like(A, z):
    """The constant A as a torch tensor when z is one (torch does not mix with NumPy arrays in @)."""
    return torch.tensor(A) if isinstance(z, torch.Tensor) else A
