"""pytest setup shared by the unit tests and nbval.

nbval compares the stored and fresh outputs of cells tagged ``nbval-check-output``; progress bars
and warnings go to stderr, which is not part of what a cell is checked for, so it is dropped on
both sides before comparing.
"""
import os

os.environ.setdefault("PYTHONHASHSEED", "0")
# pytest-xdist runs two workers on two cores: one BLAS/OpenMP thread each (inherited by nbval's kernels).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads must not spin on 2 shared cores

try:
    from nbval.plugin import IPyNbCell
except ImportError:  # nbval is only needed for the notebooks
    IPyNbCell = None

if IPyNbCell is not None:
    _compare = IPyNbCell.compare_outputs

    def _no_stderr(outputs):
        return [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]

    def compare_outputs(self, test, ref, skip_compare=None):
        return _compare(self, _no_stderr(test), _no_stderr(ref), skip_compare)

    IPyNbCell.compare_outputs = compare_outputs


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_torch_state():
    """A test that changes torch's process-wide defaults must not leak them into the next file."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    yield
    torch.set_default_dtype(dtype)
    torch.set_num_threads(threads)


try:  # property-based tests: the same examples on every run (CI must not depend on luck), no deadline
    from hypothesis import settings as _hyp_settings

    _hyp_settings.register_profile("course", derandomize=True, deadline=None, print_blob=True)
    _hyp_settings.load_profile("course")
except ImportError:  # pragma: no cover
    pass
