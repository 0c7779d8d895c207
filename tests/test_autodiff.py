"""Tests of the package course_lib.autodiff: every public name is importable from the package and is
the object of the submodule that defines it (the engines, one module each, are tested in
tests/test_autodiff_<module>.py)."""
import importlib

import pytest

from course_lib import autodiff as ad

HOMES = {
    "forward": ["Dual"],
    "scalar": ["Var"],
    "tensor": ["Tensor", "as_tensor", "stack"],
    "graph": ["topological_order"],
    "transforms": ["grad", "jacobian", "jvp", "vjp"],
    "functions": ["exp", "init_mlp", "log", "mlp", "relu", "softmax_cross_entropy", "tanh"],
}


@pytest.mark.parametrize("module", sorted(HOMES))
def test_every_name_is_the_object_of_its_submodule(module):
    sub = importlib.import_module(f"course_lib.autodiff.{module}")
    assert sorted(sub.__all__) == sorted(set(HOMES[module]) | ({"Node"} if module == "graph" else set()))
    for name in HOMES[module]:
        assert getattr(ad, name) is getattr(sub, name)


def test_the_package_exports_exactly_the_engines_and_their_tools():
    assert sorted(ad.__all__) == sorted(n for names in HOMES.values() for n in names)
    with pytest.raises(AttributeError, match="no_such_name"):
        ad.no_such_name  # noqa: B018


def test_both_reverse_engines_are_graph_nodes():
    from course_lib.autodiff.graph import Node
    assert isinstance(ad.Var(1.0), Node) and isinstance(ad.Tensor([1.0]), Node)
    assert not isinstance(ad.Dual(1.0, 1.0), Node)
