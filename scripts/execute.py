"""Execute notebooks top to bottom in a fresh kernel and store their outputs, deterministically.

    python scripts/execute.py                      # every notebook in notebooks/ and solutions/
    python scripts/execute.py notebooks/01_*.ipynb # some of them
    python scripts/execute.py --report             # only rewrite book/execution_report.md

Each notebook runs in its own folder with a fixed hash seed, and cell timing metadata is dropped,
so that re-running an unchanged notebook changes no output. What the run was is recorded once,
in the notebook's metadata ``execution_report``: when it ran, how long it took, on which CPU and
GPU, with which versions of Python, numpy, torch and course_lib, and how many claims it checked
(``assert`` statements and ``course_lib.checks`` calls executed, counted by an IPython AST
transformer installed silently before the first cell). ``book/execution_report.md``, included in
the website's home page, lists these figures for every notebook.
"""
from __future__ import annotations

import ast
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 600  # seconds per cell
REPORT = ROOT / "book" / "execution_report.md"

# Run silently in the kernel before the first cell: counts the claims the notebook checks.
INSTRUMENT = '''
import ast as _ast
__course_claims__ = {"asserts": 0, "checks": 0}


def __course_check__(value):
    __course_claims__["checks"] += 1
    return value


class _CountClaims(_ast.NodeTransformer):
    def visit_Assert(self, node):
        self.generic_visit(node)
        count = _ast.parse('__course_claims__["asserts"] += 1').body[0]
        return [_ast.copy_location(count, node), node]

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if (isinstance(f, _ast.Attribute) and f.attr.startswith("check_")
                and isinstance(f.value, _ast.Name) and f.value.id == "checks"):
            wrapped = _ast.Call(_ast.Name("__course_check__", _ast.Load()), [node], [])
            return _ast.copy_location(wrapped, node)
        return node


get_ipython().ast_transformers.append(_CountClaims())
del _CountClaims
'''
# Read after the last cell, from the kernel itself.
QUERY = {
    "claims": "__course_claims__",
    "numpy": "__import__('numpy').__version__",
    "torch": "__import__('torch').__version__",
    "course_lib": "__import__('course_lib').__version__",
    "gpu": "(lambda t: t.cuda.get_device_name(0) if t is not None and t.cuda.is_available() "
           "else 'none')(__import__('sys').modules.get('torch'))",
}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _silent(client, code: str, **kw) -> dict:
    reply = client.wait_for_reply(client.kc.execute(code, silent=True, store_history=False, **kw))
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"instrumentation failed: {reply['content'].get('evalue')}")
    return reply["content"]


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    os.environ["PYTHONHASHSEED"] = "0"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # as in the tests: one thread, reproducible timings
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads must not spin on 2 shared cores
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3", record_timing=False,
                            store_widget_state=True, resources={"metadata": {"path": str(path.parent)}})
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()
    with client.setup_kernel():
        info = client.wait_for_reply(client.kc.kernel_info())
        nb.metadata["language_info"] = info["content"]["language_info"]
        _silent(client, INSTRUMENT)
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        elapsed = time.perf_counter() - t0
        found = _silent(client, "", user_expressions=QUERY)["user_expressions"]
        client.set_widgets_metadata()
    value = {k: ast.literal_eval(v["data"]["text/plain"]) if v.get("status") == "ok" else "n/a"
             for k, v in found.items()}
    claims = value.pop("claims")
    nb.metadata["execution_report"] = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"), "seconds": round(elapsed, 1),
        "cpu": f"{cpu_name()} ({os.cpu_count()} cores)", "gpu": value.pop("gpu"),
        "python": platform.python_version(), **value,
        "asserts": claims["asserts"], "checks": claims["checks"]}
    nb.metadata.pop("papermill", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.get("language_info", {}).pop("version", None)
    nbformat.write(nb, path)
    return elapsed


def notebooks() -> list[Path]:
    return sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb")])


def report_text() -> str:
    """The Markdown table of ``book/execution_report.md``, from the notebooks' metadata."""
    rows, claims, missing = [], 0, 0
    for p in notebooks():
        r = nbformat.read(p, as_version=4).metadata.get("execution_report")
        rel = p.relative_to(ROOT).with_suffix("").as_posix()
        name = f"{{doc}}`../{rel}`" if rel.startswith("notebooks/") else f"`{rel}.ipynb`"
        if r is None:
            missing += 1
            rows.append(f"| {name} | not recorded: run `make execute` | | | | | | |")
            continue
        claims += r["asserts"] + r["checks"]
        rows.append(f"| {name} | {r['date']} | {r['seconds']:.0f} s | {r['asserts']} | "
                    f"{r['checks']} | {r['cpu']}; GPU: {r['gpu']} | Python {r['python']}, "
                    f"numpy {r['numpy']}, torch {r['torch']} | {r['course_lib']} |")
    done = len(rows) - missing
    head = [
        "% Generated by `make execute` (scripts/execute.py) from the notebooks' metadata:",
        "% do not edit by hand.",
        f"Each notebook records when it was last executed, top to bottom in a fresh kernel, how "
        f"long it took, on what, and how many claims it checked as it ran: `assert` statements "
        f"on the theory and `course_lib.checks` calls of the exercise sheets. The {done} "
        f"notebook(s) recorded below checked **{claims} claims**.",
        "",
        "| notebook | executed | time | asserts | checks | hardware | software | course_lib |",
        "|---|---|---|---|---|---|---|---|",
    ]
    tail = [""] + ([f"{missing} of {len(rows)} notebooks have not been executed by `make execute` "
                    "since it records these figures."] if missing else [])
    return "\n".join(head + rows + tail) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--report"]:
        REPORT.write_text(report_text())
        print(f"wrote {REPORT.relative_to(ROOT)}")
        return 0
    paths = [Path(p) for p in argv] or notebooks()
    for p in paths:
        print(f"executing {p} ...", flush=True)
        print(f"  done in {execute(p.resolve()):.1f} s", flush=True)
    REPORT.write_text(report_text())
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
