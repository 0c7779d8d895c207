"""course_lib.notebook.glue writes what MyST-NB's own glue writes (so `{glue:}` finds it)."""
import nbformat
import pytest
from nbclient import NotebookClient

from course_lib.notebook import glue


def _run(code: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    return nb.cells[0].outputs


def test_same_output_as_myst_nb():
    ours = _run("from course_lib.notebook import glue\nglue('rate', 0.25)")
    theirs = _run("from myst_nb import glue\nglue('rate', 0.25, display=False)")
    assert ours == theirs
    assert ours[0]["data"] == {"application/papermill.record/text/plain": "0.25"}
    assert ours[0]["metadata"]["scrapbook"]["name"] == "rate"


@pytest.mark.parametrize("name", ["", "1a", "a b", None, "a-b"])
def test_bad_name(name):
    with pytest.raises(ValueError, match="name"):
        glue(name, 1.0)


def test_none_value():
    with pytest.raises(ValueError, match="None"):
        glue("x", None)
