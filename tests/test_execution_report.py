"""`make execute` records how each notebook ran, and the home page lists it for every notebook."""
import importlib.util

import nbformat
import numpy as np

from tests._helpers import EXECUTED, ROOT

spec = importlib.util.spec_from_file_location("execute_script", ROOT / "scripts" / "execute.py")
execute = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute)


def test_report_page_is_in_sync_with_the_notebooks():
    assert execute.REPORT.read_text() == execute.report_text(), \
        "book/execution_report.md is out of date: run `python scripts/execute.py --report`"
    text = execute.REPORT.read_text()
    for path in EXECUTED:
        assert path.relative_to(ROOT).with_suffix("").as_posix() in text, f"{path.name} not listed"


def test_home_page_includes_the_report():
    assert "```{include} execution_report.md" in (ROOT / "book" / "intro.md").read_text()


def test_recorded_reports_are_complete():
    for path in EXECUTED:
        report = nbformat.read(path, as_version=4).metadata.get("execution_report")
        if report is not None:
            assert set(report) >= {"date", "seconds", "cpu", "gpu", "python", "numpy", "torch",
                                   "course_lib", "asserts", "checks"}, path.name
            assert report["asserts"] + report["checks"] > 0, f"{path.name} checked no claim"


def test_execute_counts_the_claims_it_runs(tmp_path):
    cells = ["from course_lib import checks",
             "for i in range(3):\n    assert i >= 0",
             "def f(x):\n    assert x > 0\n    return x\n\n\nf(1) + f(2)",
             "checks.check_close(1.0, 1.0)\n_ = [checks.check_close(2.0, 2.0)]",
             "print('assert is only a word here; checks.check_close is not called')"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    execute.execute(path)
    out = nbformat.read(path, as_version=4)
    report = out.metadata["execution_report"]
    assert (report["asserts"], report["checks"]) == (5, 2)
    assert report["numpy"] == np.__version__ and report["seconds"] > 0 and report["gpu"]
    assert [c.execution_count for c in out.cells] == [1, 2, 3, 4, 5]
    assert out.cells[2].outputs[0]["data"]["text/plain"] == "3"
    assert "✓" in out.cells[3].outputs[0]["text"]
