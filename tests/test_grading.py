"""`make grade`: nbgrader grades a class of sheet-1 submissions, hostile and broken ones included.

One temporary course grades, in two worker processes: the solution sheet, the blank student
sheet, and submissions that loop forever, raise, call ``sys.exit`` and ``os._exit``, delete or
edit check cells, monkeypatch ``course_lib.checks``, allocate 20 GB, are not JSON, belong to
another sheet, or hang in a loop that ignores interrupts.
"""
import copy
import csv
import functools
import hashlib
import json

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib import grading, sheets
from tests._helpers import ROOT, SOLUTIONS

pytestmark = pytest.mark.slow   # grades a class: about 2.5 min of CPU
SHEET = "01_smooth_optimization"
# The class is graded on a frozen copy of sheet 1 (its version of 2026-12-02, cell ids c00...):
# the expected scores below are tied to its cells, not to the sheet as it evolves.
FROZEN = ROOT / "tests" / "data" / "grading" / "sheet01.ipynb.json"
TIMEOUT = 10          # seconds per cell (the setup cell gets ten times more)
EXERCISES = [f"Exercise {k}" for k in range(1, 10)]
LEAST_SQUARES = "def least_squares(x, A, b):\n    r = A @ x - b\n    return 0.5 * (r @ r)\n\n"

MONKEYPATCH = LEAST_SQUARES + """\
import sys
import course_lib.checks as _c


def _pass(*args, **kwargs):
    print("✓ (patched)")


for _name in _c.__all__:
    setattr(_c, _name, _pass)
_c._fail = lambda msg: None
_c.check_function.__code__ = _pass.__code__
sys.modules["course_lib.checks"] = _c
checks = _c


def grad_least_squares(x, A, b):
    return 0 * x
"""
STUBBORN_LOOP = """\
def nesterov(grad_f, x0, step, n_iter):
    import time
    while True:              # an infinite loop that swallows the interrupt
        try:
            time.sleep(0.05)
        except BaseException:
            pass
"""
TWENTY_GB = """\
def hess_logistic(w, A, y):
    import resource
    if resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY:
        raise RuntimeError("no memory limit in the grading kernel: not allocating 20 GB")
    return np.ones(int(2.5e9))   # 20 GB of float64
"""


@functools.lru_cache
def frozen_release() -> str:
    """The student sheet released from the frozen solution sheet."""
    return sheets.render(sheets.student_version(nbformat.read(FROZEN, as_version=4), SHEET))


def student_sheet(**answers):
    """The released student sheet with some cells replaced (by id); None deletes the cell."""
    nb = nbformat.reads(frozen_release(), as_version=4)
    sol = {c.id: c.source for c in nbformat.read(FROZEN, as_version=4).cells}
    for cell in nb.cells:
        if answers.get(cell.id, "") == "solution":
            answers[cell.id] = sol[cell.id]
    nb.cells = [c for c in nb.cells if answers.get(c.id, "") is not None]
    for cell in nb.cells:
        if cell.id in answers:
            cell.source = answers[cell.id]
    return nb


def solved(**changes):
    answers = {c: "solution" for c in ("c03", "c06", "c09", "c13", "c16", "c19", "c22", "c25", "c31")}
    answers.update(changes)
    return student_sheet(**answers)


def submissions(folder):
    """Write the class; return the expected per-exercise scores of the graded students."""
    folder.mkdir()
    write = lambda name, nb: (folder / name).write_text(sheets.render(nb))  # noqa: E731
    (folder / "solution.ipynb").write_text(FROZEN.read_text())
    (folder / "blank").mkdir()
    write(f"blank/{SHEET}.ipynb", student_sheet())
    mixed = solved(
        c03=LEAST_SQUARES + "def grad_least_squares(x, A, b):\n    raise ValueError('my bug')",
        c06="def lse(x):\n    while True:\n        pass\n\n\n"
            "def grad_lse(x):\n    return np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x)))",
        c09="def grad_norm(x):\n    import sys\n    sys.exit(0)",
        c14=None,                                    # its check cell deleted
        c16="def softmax_jacobian(z):\n    return np.zeros((len(z), len(z)))",
        c17='print("✓ softmax_jacobian matches finite differences")',   # the check edited
        c19=TWENTY_GB)
    write("mixed.ipynb", mixed)
    write("monkeypatch.ipynb", student_sheet(c03=MONKEYPATCH))
    write("os_exit.ipynb", solved(c16="def softmax_jacobian(z):\n    import os\n    os._exit(1)"))
    write("stubborn.ipynb", solved(c31=STUBBORN_LOOP))
    (folder / "not_json.ipynb").write_text('{"cells": [ this is not JSON')
    (folder / "other_sheet.ipynb").write_text((ROOT / "exercises" / SOLUTIONS[1].name).read_text())
    full = [1, 1, 1, 1, 1, 1, 1, 2, 1]
    return {"solution": full, "blank": [0] * 9,
            "mixed": [0, 0, 0, 1, 0, 0, 1, 2, 1],
            "monkeypatch": [0] * 9,
            "os_exit": [1, 1, 1, 1, 0, 0, 0, 0, 0],
            "stubborn": [1, 1, 1, 1, 1, 1, 1, 2, 0]}


def digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    expected = submissions(tmp / "subs")
    before = digest(tmp / "subs")
    lines = []
    (tmp / "sheet").mkdir()
    sheet = tmp / "sheet" / f"{SHEET}.ipynb"
    sheet.write_text(FROZEN.read_text())
    path = grading.grade(str(sheet), tmp / "subs", tmp / "out", workers=2, timeout=TIMEOUT, memory=4,
                         wall=600, log=lines.append)
    rows = {r["student_id"]: r for r in csv.DictReader(path.open())}
    return {"rows": rows, "expected": expected, "out": tmp / "out", "lines": lines,
            "unchanged": before == digest(tmp / "subs"), "subs": tmp / "subs"}


def scores(row):
    cols = {k.split(" (")[0]: v for k, v in row.items()}
    return [float(cols[e]) for e in EXERCISES]


def test_every_student_has_a_row_and_submissions_are_untouched(graded):
    assert graded["unchanged"], "the submissions folder was modified"
    assert set(graded["rows"]) == set(graded["expected"]) | {"not_json", "other_sheet"}
    progress = [line for line in graded["lines"] if line.startswith("[")]
    assert len(progress) == len(graded["expected"]), "one progress line per graded student"


@pytest.mark.parametrize("student", ["solution", "blank", "mixed", "monkeypatch", "os_exit",
                                     "stubborn"])
def test_scores_per_exercise(graded, student):
    row = graded["rows"][student]
    assert row["status"] == "graded", row["reason"]
    assert scores(row) == graded["expected"][student], row["reason"]
    assert float(row[next(k for k in row if k.startswith("total"))]) == sum(graded["expected"][student])
    assert (graded["out"] / "feedback" / f"{student}.html").exists()


def test_solution_gets_full_marks_and_its_written_answer_waits_for_a_human(graded):
    row = graded["rows"]["solution"]
    assert row["to grade by hand"] == "1" and row["reason"] == "" and row["review"] == ""
    assert graded["rows"]["blank"]["to grade by hand"] == "0", "a blank written answer scores 0"


def test_rejected_submissions_have_a_reason(graded):
    rows = graded["rows"]
    assert rows["not_json"]["status"] == "rejected" and "not JSON" in rows["not_json"]["reason"]
    assert rows["other_sheet"]["status"] == "rejected"
    assert "another sheet ('# 02 ·" in rows["other_sheet"]["reason"]


def test_reasons_name_what_went_wrong(graded):
    rows = graded["rows"]
    mixed = rows["mixed"]["reason"]
    assert "deleted cell(s) put back: check-c14" in mixed
    assert "CellTimeoutError" in mixed and "SystemExit" in mixed and "MemoryError" in mixed
    assert "KernelDied" in rows["os_exit"]["reason"] and "not run" in rows["os_exit"]["reason"]
    assert "ignored the interrupt" in rows["stubborn"]["reason"]


def graded_notebook(graded, student):
    path = graded["out"] / "course" / "autograded" / student / SHEET / f"{SHEET}.ipynb"
    return {c.id: c for c in nbformat.read(path, as_version=4).cells}


def test_edited_check_is_restored_and_allocation_hits_the_memory_limit(graded):
    cells = graded_notebook(graded, "mixed")
    assert "check_jacobian(scipy.special.softmax" in cells["c17"].source, "edited check not restored"
    assert [o.ename for o in cells["c17"].outputs if o.output_type == "error"] == ["CheckFailed"]
    assert [o.ename for o in cells["c20"].outputs if o.output_type == "error"] == ["MemoryError"]


def test_monkeypatching_checks_fools_a_plain_run_but_not_the_grader(graded):
    nb = nbformat.read(graded["subs"] / "monkeypatch.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    plain = {c.id: c for c in nb.cells}
    assert "✓ (patched)" in plain["c04"].outputs[0].text, "the attack should work in-kernel"
    assert not any(o.output_type == "error" for o in plain["c04"].outputs)
    cells = graded_notebook(graded, "monkeypatch")
    assert [o.ename for o in cells["c04"].outputs if o.output_type == "error"] == ["CheckFailed"]
    assert "fresh copy of course_lib/checks.py" in cells["c04"].source
    assert "course_lib.checks" in graded["rows"]["monkeypatch"]["review"]


def test_gradebook_holds_every_graded_student(graded):
    rows = list(csv.DictReader((graded["out"] / "course" / "grades_nbgrader.csv").open()))
    assert {r["student_id"] for r in rows} == set(graded["expected"])
    totals = {r["student_id"]: float(r["raw_score"]) for r in rows}
    assert totals == {s: float(sum(v)) for s, v in graded["expected"].items()}


def test_release_with_a_gradebook_equals_the_student_sheet(graded):
    """`nbgrader generate_assignment` with its database and the hidden check guards, in the
    course that graded the class, releases exercises/ byte for byte."""
    release = graded["out"] / "course" / "release" / SHEET / f"{SHEET}.ipynb"
    assert release.read_text() == frozen_release()
    assert not [line for line in graded["lines"] if "WARNING" in line]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_hidden_check_guards_leave_the_release_unchanged(solution):
    nb = nbformat.read(solution, as_version=4)
    guarded = sheets.source_notebook(nb, solution.name, guard=grading.GUARD.format(path="x.py"))
    checks = [c for c in guarded.cells if "BEGIN HIDDEN TESTS" in c.source]
    assert checks and all(c.metadata["nbgrader"]["grade_id"].startswith("check-") for c in checks)
    assert sheets.render(sheets._release(guarded)) == (ROOT / "exercises" / solution.name).read_text()


def test_collect_handles_folders_ids_and_duplicates(tmp_path):
    (tmp_path / "ok.ipynb").write_text("{}")
    (tmp_path / "dup.ipynb").write_text("{}")
    (tmp_path / "dup").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "a.ipynb").write_text("{}")
    (tmp_path / "two" / "b.ipynb").write_text("{}")
    (tmp_path / "bad id.ipynb").write_text("{}")
    got = {sid: reason for sid, _, reason in grading.collect(tmp_path, f"{SHEET}.ipynb")}
    assert got["ok"] == ""
    assert "two submissions" in got["dup"]
    assert "2 notebooks" in got["two"]
    assert "student id" in got["bad id"]


def test_prepare_restores_metadata_lost_by_an_editor():
    release = nbformat.reads(frozen_release(), as_version=4)
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        cell.metadata = {}
    out, reason, notes = grading.prepare_notebook(nb, release)
    check = next(i for i, c in enumerate(release.cells)
                 if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("check-"))
    assert reason == "" and out.cells[check].metadata["nbgrader"] == \
        release.cells[check].metadata["nbgrader"]
    n = len(release.cells) - 1          # all but the banner
    assert notes == [f"nbgrader metadata put back on {n} cell(s) (found by cell id)"]
    text = json.dumps(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 03 · X")]))
    assert "another sheet" in grading.prepare_notebook(nbformat.reads(text, 4), release)[1]
