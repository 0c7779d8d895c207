"""The exercise pipeline: solution sheets are nbgrader source notebooks, student sheets are what
nbgrader releases, in sync, failing only at the blanks, and no solution text ever reaches them."""
import copy
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.nbgraderformat import MetadataValidator

from course_lib import sheets
from tests._helpers import ROOT, SOLUTIONS, code_cells, load, source

ids = [p.name for p in SOLUTIONS]
md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell


def sheet(*cells):
    """A small solution sheet: given cells (with ids c0, c1, ...)."""
    nb = nbformat.v4.new_notebook(cells=[copy.deepcopy(c) for c in cells])
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    for i, c in enumerate(nb.cells):
        c.id = f"c{i}"
    return nb


ANSWER = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x  # secret\n    ### END SOLUTION"
CHECK = "checks.check_function(f, lambda x: 2 * x, [1.0])"


def test_there_are_solution_sheets():
    assert SOLUTIONS, "no exercise sheet in solutions/"


def test_release_replaces_solutions_keeps_indentation_and_the_rest():
    nb = sheet(md("# 99 · Test"), code(ANSWER + "\nprint(f)"), code(CHECK),
               md("Why?\n\n<!-- BEGIN SOLUTION -->\nBecause $x>0$.\n<!-- END SOLUTION -->\n"))
    st = sheets.student_version(nb, "test.ipynb")
    assert [c.id for c in st.cells] == ["student-banner", "c0", "c1", "c2", "c3"]
    assert st.cells[2].source == ("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
                                  "\nprint(f)")
    assert st.cells[3].source == CHECK
    assert st.cells[4].source == f"Why?\n\n{sheets.MD_BLANK}\n"
    assert st.cells[3].metadata["editable"] is False and st.cells[3].metadata["deletable"] is False


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids)
def test_released_sheets_label_each_written_answer_once(solution):
    student = nbformat.read(ROOT / "exercises" / solution.name, as_version=4)
    for i, cell in enumerate(student.cells[2:], 2):
        if cell.cell_type == "markdown":
            labels = re.findall(r"(?i)\*\*your answer", cell.source)
            assert len(labels) <= 1, f"cell {i}: {cell.source!r}"


def test_release_keeps_only_the_kernel_and_language_of_the_notebook_metadata():
    nb = sheet(md("# 99 · Test"), code(ANSWER), code(CHECK))
    nb.metadata["execution_report"] = {"date": "today", "asserts": 3}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    st = sheets.student_version(nb, "t")
    assert set(st.metadata) == {"kernelspec", "language_info"}
    assert "version" not in st.metadata["language_info"]


def test_metadata_from_structure_and_points_markers():
    nb = sheet(md("# 99 · Test"), code(ANSWER), code(f"# points: 3\n{CHECK}"),
               md("Why?\n<!-- points: 2 -->\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->"),
               code("x = f(1.0)"), code(ANSWER.replace("f(x)", "g(x)")), code(CHECK.replace("(f", "(g")))
    meta = [c.metadata["nbgrader"] for c in sheets.annotate(nb, "t").cells]
    assert [m["grade_id"] for m in meta] == ["locked-c0", "answer-c1", "check-c2", "written-c3",
                                             "locked-c4", "answer-c5", "check-c6"]
    assert [m.get("points") for m in meta] == [None, None, 3, 2, None, None, sheets.DEFAULT_POINTS]
    assert [(m["solution"], m["grade"], m["locked"]) for m in meta] == [
        (False, False, True), (True, False, False), (False, True, True), (True, True, False),
        (False, False, True), (True, False, False), (False, True, True)]
    again = sheets.annotate(sheets.annotate(nb, "t"), "t")
    assert sheets.render(again) == sheets.render(sheets.annotate(nb, "t")), "annotate is idempotent"


@pytest.mark.parametrize("cells, message", [
    ([code(ANSWER), code(f"# Points = 3\n{CHECK}")], "is not a points marker"),
    ([code(ANSWER), code(f"# points: 0\n{CHECK}")], "is not a points marker"),
    ([code(ANSWER), code(f"# points: two\n{CHECK}")], "is not a points marker"),
    ([code("# points: 2\n" + ANSWER), code(CHECK)], "points marker in a answer cell"),
    ([code(ANSWER), code(f"# points: 1\n# points: 2\n{CHECK}")], "2 points markers"),
    ([code(ANSWER)], "not followed by a check cell"),
    ([code(ANSWER), code(ANSWER.replace("f(x)", "g(x)")), code(CHECK)], "not followed by a check"),
    ([code(ANSWER + "\n" + CHECK)], "an answer cell calls course_lib.checks"),
    ([code("x = 1"), code(CHECK)], "holds no ### BEGIN SOLUTION block"),
])
def test_sheets_that_cannot_be_graded_are_refused(cells, message):
    with pytest.raises(ValueError, match=message):
        sheets.annotate(sheet(*cells), "bad.ipynb")


# Near misses of the markers: each one leaked solution text into exercises/ before (issue 10).
NEAR_MISSES = {
    "trailing hashes": code("def f(x):\n    ### BEGIN SOLUTION ###\n    return 2 * x  # secret\n"
                            "    ### END SOLUTION ###"),
    "lower case": code("def f(x):\n    ### begin solution\n    return 2 * x  # secret\n"
                       "    ### end solution"),
    "markdown without spaces": md("Why?\n<!--BEGIN SOLUTION-->\nThe secret.\n<!--END SOLUTION-->"),
    "markdown lower case": md("Why?\n<!-- begin solution -->\nThe secret.\n<!-- end solution -->"),
    "END before BEGIN": md("Why?\n<!-- END SOLUTION -->\nThe secret.\n<!-- BEGIN SOLUTION -->"),
    "nested markdown": md("<!-- BEGIN SOLUTION -->\nA\n<!-- BEGIN SOLUTION -->\nB\n"
                          "<!-- END SOLUTION -->\nThe secret.\n<!-- END SOLUTION -->"),
    "inline markdown": md("Why? <!-- BEGIN SOLUTION --> The secret. <!-- END SOLUTION -->"),
    "code marker in markdown": md("Why?\n### BEGIN SOLUTION\nThe secret.\n### END SOLUTION"),
    "markdown marker in code": code("<!-- BEGIN SOLUTION -->\nsecret = 1\n<!-- END SOLUTION -->"),
    "underscore": code("# BEGIN_SOLUTION\nsecret = 1\n# END_SOLUTION"),
}


@pytest.mark.parametrize("case", NEAR_MISSES, ids=list(NEAR_MISSES))
def test_near_miss_markers_are_errors_naming_the_cell(case):
    nb = sheet(md("# 99 · Test"), code(ANSWER), code(CHECK), NEAR_MISSES[case])
    with pytest.raises(ValueError, match=r"bad\.ipynb, cell 3 \(id c3\)"):
        sheets.student_version(nb, "bad.ipynb")


@pytest.mark.parametrize("case", list(NEAR_MISSES))
def test_leak_check_catches_what_nbgrader_alone_would_release(case):
    """Without our marker check, a near miss is not a solution block, so the cell would be
    released as a read-only cell: nbgrader refuses some of these by itself and releases the
    others with the secret in them; the leak check on the released sheet refuses every one."""
    from nbgrader.converters.base import NbGraderException

    nb = sheet(md("# 99 · Test"), code(ANSWER), code(CHECK), NEAR_MISSES[case])
    src = sheets.source_notebook(sheet(md("# 99 · Test"), code(ANSWER), code(CHECK)), "t")
    extra = copy.deepcopy(nb.cells[3])
    extra.metadata["nbgrader"] = {"grade": False, "grade_id": "extra", "locked": True,
                                  "schema_version": 3, "solution": False}
    src.cells.append(extra)
    try:
        released = sheets._release(src)
    except NbGraderException:          # nbgrader refused this one by itself
        return
    assert "secret" in released.cells[4].source.lower(), "nbgrader alone leaks this one"
    with pytest.raises(ValueError, match="student cell 4 still holds the marker"):
        sheets.check_no_leak(nb, released, "t")


def test_leak_check_finds_a_solution_line_in_the_student_cell():
    nb = sheet(md("# 99 · Test"), code(ANSWER), code(CHECK))
    leaky = sheets.student_version(nb, "t")
    leaky.cells[2].source += "\n    return 2 * x  # secret"
    with pytest.raises(ValueError, match=r"cell 1: solution text reached the student sheet"):
        sheets.check_no_leak(nb, leaky, "t")


def test_no_sheet_found_is_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert sheets.main(["--check"]) == 2
    assert "no solution sheet found" in capsys.readouterr().err
    assert sheets.main([]) == 2


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids)
def test_sheets_are_in_sync_and_generation_is_idempotent(solution, tmp_path):
    assert sheets.generate(solution, ROOT / "exercises", check=True), \
        f"solutions/{solution.name} or exercises/{solution.name} is out of date: run `make sheets`"
    mine = tmp_path / solution.name
    shutil.copy(solution, mine)
    sheets.generate(mine, tmp_path / "ex")
    first = (tmp_path / "ex" / solution.name).read_text()
    sheets.generate(mine, tmp_path / "ex")
    assert (tmp_path / "ex" / solution.name).read_text() == first
    assert mine.read_text() == solution.read_text()


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids)
def test_nbgrader_metadata(solution):
    """Every cell carries nbgrader metadata: answers are solution cells, each followed by an
    autograded check worth points > 0; written answers graded by hand; the rest locked."""
    nb = nbformat.read(solution, as_version=4)
    MetadataValidator().validate_nb(nb)
    metas = [c.metadata.get("nbgrader") for c in nb.cells]
    assert all(metas), f"cells {[i for i, m in enumerate(metas) if not m]} carry no nbgrader metadata"
    grade_ids = [m["grade_id"] for m in metas]
    assert len(set(grade_ids)) == len(grade_ids), "grade ids are not unique"
    kinds = [g.split("-")[0] for g in grade_ids]
    for i, (cell, m, kind) in enumerate(zip(nb.cells, metas, kinds)):
        flags = (m["solution"], m["grade"], m["locked"])
        assert flags == {"answer": (True, False, False), "check": (False, True, True),
                         "written": (True, True, False), "locked": (False, False, True)}[kind], i
        if m["grade"]:
            assert m["points"] > 0, f"cell {i} is graded but worth {m['points']} points"
        if kind == "check":
            for o in cell.outputs:   # nbgrader would read these as a failure or a partial score
                assert o.output_type not in ("error", "execute_result"), (i, o.output_type)
                assert not (o.output_type == "stream" and o.name == "stderr"), f"cell {i}: stderr"
    assert sum(m.get("points", 0) for m in metas if m["grade"]) > 0
    for i, kind in enumerate(kinds):
        if kind == "answer":
            nxt = [k for k in kinds[i + 1:] if k in ("answer", "check")]
            assert nxt and nxt[0] == "check", f"answer cell {i} is not followed by a graded check"
    assert sheets.render(sheets.annotate(nb, solution.name)) == solution.read_text(), \
        "the metadata is not what the sheet's structure gives: run `make sheets`"


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
