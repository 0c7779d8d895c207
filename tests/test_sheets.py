"""The exercise pipeline: student sheets generated from solutions, in sync, failing only at the blanks."""
import nbformat
import pytest
from nbclient import NotebookClient

from course_lib import sheets
from tests._helpers import ROOT, SOLUTIONS, code_cells, load, source

ids = [p.name for p in SOLUTIONS]


def test_strip_code_keeps_indentation_and_the_rest():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\nprint(f)"
    assert sheets.strip_code(src) == ("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
                                      "\nprint(f)")


def test_strip_markdown_replaces_written_answers():
    src = "Why?\n\n<!-- BEGIN SOLUTION -->\nBecause $x>0$.\n<!-- END SOLUTION -->\n"
    out = sheets.strip_markdown(src)
    assert "Because" not in out and sheets.MD_BLANK in out and out.startswith("Why?")


@pytest.mark.parametrize("bad", ["### BEGIN SOLUTION\nx = 1",
                                 "x = 1\n### END SOLUTION",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_markers_are_rejected(bad):
    with pytest.raises(ValueError, match="SOLUTION"):
        sheets.strip_code(bad, "cell 3")


def test_a_sheet_without_solutions_is_rejected():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(ValueError, match="no ### BEGIN SOLUTION"):
        sheets.student_version(nb, "empty.ipynb")


def test_there_are_solution_sheets():
    assert SOLUTIONS, "no exercise sheet in solutions/"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids)
def test_student_sheet_is_in_sync_and_generation_is_idempotent(solution, tmp_path):
    assert sheets.generate(solution, ROOT / "exercises", check=True), \
        f"exercises/{solution.name} is out of date: run `make sheets`"
    sheets.generate(solution, tmp_path)
    first = (tmp_path / solution.name).read_text()
    sheets.generate(solution, tmp_path)
    assert (tmp_path / solution.name).read_text() == first


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids)
def test_every_exercise_is_followed_by_a_check(solution):
    cells = load(solution)["cells"]
    checks = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "checks." in source(c)]
    blanks = [i for i, c in enumerate(cells) if "### BEGIN SOLUTION" in source(c)]
    assert blanks, "no solution block"
    for i in blanks:
        assert any(j >= i for j in checks), f"cell {i} has a solution block but no check cell after it"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids)
def test_student_sheet_fails_only_at_the_blanks(solution):
    path = ROOT / "exercises" / solution.name
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    assert errors, "the student sheet runs without error: its blanks raise nothing"
    wrong = [(i, o.ename, o.evalue) for i, o in errors if o.ename != "NotImplementedError"]
    assert not wrong, f"student sheet fails with something else than NotImplementedError: {wrong}"
    n_blank = sum("raise NotImplementedError()" in source(c) for c in code_cells(load(path)))
    assert len(errors) >= n_blank, "every blank should raise when its check runs"
