"""Grade a folder of submissions of one exercise sheet with nbgrader (``make grade``).

    python -m course_lib.grading 01 path/to/submissions [--out DIR] [--workers N]
                                 [--timeout 60] [--memory 4] [--wall 900]

The submissions folder holds ``<student_id>.ipynb`` files or ``<student_id>/NN_topic.ipynb``
folders; it is only read. The output folder (default: ``<submissions>_graded`` beside it) gets
``grades.csv`` (one row per student: status, one column per exercise, total, points left to
grade by hand, reasons, things to review), ``feedback/<student_id>.html`` and ``grading.log``,
and ``course/``, a complete nbgrader course: its gradebook holds every autograded submission, so
``nbgrader formgrader`` can grade the written answers there, then ``nbgrader generate_feedback``
and ``nbgrader export`` (run in ``course/``, with the venv's ``bin/`` on ``PATH``).

What nbgrader does: ``generate_assignment`` from the solution sheet (its release must equal
``exercises/NN_topic.ipynb``), ``autograde`` (read-only and check cells restored from the
gradebook, every check cell run, a failing check scores 0), ``generate_feedback``, ``export``.
What this module adds around it:

- *submissions are checked first*: not JSON, not a notebook, another sheet, a bad student id or
  two submissions of one student are rejected with a reason; cells the student deleted (or whose
  nbgrader metadata was lost) are put back from the release before nbgrader sees the copy;
- *parallel and isolated*: each submission is autograded in a worker process (default: one per
  core) inside its own copy of the course, so no two processes ever write one gradebook; the
  main process then copies the grades into the course's gradebook, one student at a time;
- *a hostile kernel cannot stop the class*: the grading kernel runs under a memory limit
  (``RLIMIT_AS``), each cell under a time limit; a kernel that ignores the interrupt after two
  time-outs in a row, dies (``os._exit``, a crash) or passes the wall-clock limit of the whole
  submission is killed, and the cells after it score 0 with the reason ("not run: ...");
- *checks that cannot be fooled by a monkeypatch*: every check cell, as nbgrader restores it when
  grading, first loads a fresh copy of ``course_lib/checks.py`` (nbgrader *hidden tests*, absent
  from the student sheet), so patching ``course_lib.checks`` (or rebinding ``checks``) changes
  nothing; code that touches the grading machinery is listed under "review" in ``grades.csv``.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import shutil
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import nbformat

from . import sheets

__all__ = ["grade", "collect", "prepare", "prepare_notebook", "setup_course", "exercise_of", "main"]

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "course-grading"
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")
GUARD = ('# grading only: the checks below come from a fresh copy of course_lib/checks.py\n'
         '_spec = __import__("importlib.util").util.spec_from_file_location(\n'
         '    "course_lib.fresh_checks", {path!r})\n'
         'checks = __import__("importlib.util").util.module_from_spec(_spec)\n'
         '_spec.loader.exec_module(checks)')
TAMPERING = re.compile(r"\bchecks\s*\.\s*\w+\s*=(?!=)|setattr\s*\(\s*(course_lib\.)?checks\b"
                       r"|\bcourse_lib\.checks\b|import\s+course_lib\s*$|sys\.modules|builtins"
                       r"|importlib|__code__|__globals__|\bgc\.get_|\bctypes\b|CheckFailed", re.M)


def _env_path() -> None:
    """nbgrader runs ``alembic`` by name: put this Python's ``bin/`` first on PATH."""
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


# ---------------------------------------------------------------------------------- submissions
def collect(folder: Path, notebook: str) -> list:
    """``(student_id, path or None, reason)`` for every entry of the submissions folder."""
    found: dict = {}
    for entry in sorted(Path(folder).iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            nbs = sorted(entry.glob("*.ipynb"))
            named = [p for p in nbs if p.name == notebook]
            path = named[0] if named else (nbs[0] if len(nbs) == 1 else None)
            reason = "" if path else (f"the folder holds no {notebook}" if not nbs else
                                      f"the folder holds {len(nbs)} notebooks and none is {notebook}")
            found.setdefault(entry.name, []).append((path, reason))
        elif entry.suffix == ".ipynb":
            found.setdefault(entry.stem, []).append((entry, ""))
    out = []
    for sid, items in sorted(found.items()):
        if not STUDENT_ID.fullmatch(sid):
            out.append((sid, None, "rejected: the student id must be letters, digits and . _ @ + -"))
        elif len(items) > 1:
            out.append((sid, None, "rejected: two submissions (a notebook and a folder)"))
        else:
            path, reason = items[0]
            out.append((sid, path, f"rejected: {reason}" if reason else ""))
    return out


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.match(r"#\s*\d\d\s*·", cell.source):
            return cell.source.split("\n")[0].strip()
    return ""


def prepare(path: Path, release) -> tuple:
    """Read one submission and make the copy nbgrader will grade (see :func:`prepare_notebook`);
    a file that is not JSON or not a notebook is rejected with the reason."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        raw = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return None, f"rejected: not a valid notebook file (not JSON: {err})", []
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, "rejected: not a Jupyter notebook (no list of cells)", []
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several kinds of errors
        return None, f"rejected: not a valid Jupyter notebook ({type(err).__name__})", []
    return prepare_notebook(nb, release)


def prepare_notebook(nb, release) -> tuple:
    """``(notebook or None, reason, notes)``: None with the reason when ``nb`` is another sheet;
    otherwise ``nb`` with every cell of the release present (a deleted cell is put back after the
    cell that precedes it in the release; a cell that lost its nbgrader metadata is recognised by
    its cell id), and notes on what was restored."""
    want, got = _title(release), _title(nb)
    by_gid = {c.metadata["nbgrader"]["grade_id"]: c for c in release.cells if "nbgrader" in c.metadata}
    by_cell_id = {c.get("id"): gid for gid, c in by_gid.items()}
    if got and got != want:
        return None, f"rejected: this is another sheet ({got!r}, expected {want!r})", []
    notes, seen, relabelled = [], [], 0
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid not in by_gid and cell.get("id") in by_cell_id:
            gid = by_cell_id[cell.get("id")]
            cell.metadata["nbgrader"] = dict(by_gid[gid].metadata["nbgrader"])
            relabelled += 1
        seen.append(gid if gid in by_gid else None)
    if relabelled:
        notes.append(f"nbgrader metadata put back on {relabelled} cell(s) (found by cell id)")
    answers = [g for g in by_gid if g.startswith("answer-")]
    if not got and sum(g in seen for g in answers) < len(answers) / 2:
        return None, f"rejected: does not look like {want!r} (no title, few of its cells)", []
    order = list(by_gid)
    missing = [g for g in order if g not in seen]
    for gid in missing:
        before = [seen.index(g) for g in order[: order.index(gid)] if g in seen]
        at = max(before) + 1 if before else 0
        nb.cells.insert(at, nbformat.from_dict(json.loads(json.dumps(by_gid[gid]))))
        seen.insert(at, gid)
    if missing:
        notes.append(f"deleted cell(s) put back: {', '.join(missing)}")
    return nb, "", notes


def review_flags(nb, release) -> list:
    """Code the student wrote that touches the grading machinery (listed for a human)."""
    locked = {c.metadata["nbgrader"]["grade_id"] for c in release.cells
              if c.metadata.get("nbgrader", {}).get("locked")}
    flags = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade_id") in locked:
            continue
        for m in TAMPERING.finditer(cell.source):
            flags.append(f"cell {i}: {m.group(0).strip()!r}")
    return flags[:5]


def exercise_of(release) -> dict:
    """``grade_id -> exercise label`` for graded cells (the ``## Exercise N`` heading above)."""
    label, out = "Other", {}
    for cell in release.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^##\s+(Exercise\s+\d+|[^\n]{1,40})", cell.source, re.M)
            if m:
                label = m.group(1).strip().rstrip(".")
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            out[meta["grade_id"]] = label
    return out


# -------------------------------------------------------------------------------------- course
def _config(root: Path, opts: dict):
    """The nbgrader configuration shared by the course and the per-student copies."""
    c = sheets.nbgrader_config(root)
    c.CourseDirectory.course_id = "mathematics-of-ai"
    c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    c.Execute.timeout = int(opts["timeout"])
    c.Execute.kernel_name = KERNEL
    c.Execute.startup_timeout = 120
    c.Execute.iopub_timeout = 15      # after the time limit and the interrupt: then it is stuck
    c.Autograde.autograde_preprocessors = _autograde_preprocessors()
    return c


def setup_course(out: Path, solution: Path, opts: dict) -> dict:
    """Lay out the nbgrader course in ``out/course`` and run ``generate_assignment`` there."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    _env_path()
    root = Path(out) / "course"
    stem = solution.stem
    if root.exists():
        shutil.rmtree(root)
    (root / "source" / stem).mkdir(parents=True)
    nb = nbformat.read(solution, as_version=4)
    checks_path = str(Path(sheets.__file__).with_name("checks.py"))
    source = sheets.source_notebook(nb, solution.name, guard=GUARD.format(path=checks_path))
    (root / "source" / stem / f"{stem}.ipynb").write_text(sheets.render(source))
    kdir = root / "jupyter" / "kernels" / KERNEL
    kdir.mkdir(parents=True)
    argv = [sys.executable, "-m", "course_lib.grading", "--kernel", str(opts["memory"]),
            "-f", "{connection_file}", "--log-level=ERROR"]
    (kdir / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "Python 3 (grading)", "language": "python"}, indent=1))
    c = _config(root, opts)
    (root / "nbgrader_config.py").write_text(
        "# The course laid out by `make grade` (course_lib.grading): run nbgrader here.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {c.CourseDirectory.course_id!r}\n"
        f"c.IncludeHeaderFooter.header = {c.IncludeHeaderFooter.header!r}\n"
        f"c.ClearSolutions.text_stub = {c.ClearSolutions.text_stub!r}\n"
        f"c.Execute.timeout = {c.Execute.timeout!r}\n")
    c.CourseDirectory.assignment_id = stem
    GenerateAssignment(coursedir=CourseDirectory(config=c), config=c).start()
    release = nbformat.read(root / "release" / stem / f"{stem}.ipynb", as_version=4)
    shutil.copy(root / "gradebook.db", root / "gradebook.template.db")
    return {"root": root, "stem": stem, "release": release, "source": source}


# ---------------------------------------------------------------------------------- the kernel
def _kill_children() -> None:
    import psutil

    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.Error:
            pass


def _autograde_preprocessors() -> list:
    """nbgrader's autograde preprocessors, its ``Execute`` replaced by :class:`_execute_class`."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [_execute_class() if p is Execute else p for p in default]


_EXECUTE = None


def _execute_class():
    """nbgrader's Execute, but a dead or stuck kernel scores 0 from that cell on, with a reason."""
    global _EXECUTE
    if _EXECUTE is not None:
        return _EXECUTE
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_output
    from nbgrader.preprocessors import Execute

    class GradingExecute(Execute):
        kill_reason = ""          # set by the wall-clock watchdog before it kills the kernel

        def preprocess(self, nb, resources=None, km=None):
            """Read-only cells before the first answer (the setup: imports) are the same for
            every student and get ten times the time limit; a loaded machine must not fail them."""
            self._dead = ""
            solutions = [i for i, c in enumerate(nb.cells)
                         if c.metadata.get("nbgrader", {}).get("solution")]
            setup = {id(c) for c in nb.cells[: solutions[0] if solutions else 0]}
            self.timeout_func = lambda cell: 10 * self.timeout if id(cell) in setup else self.timeout
            return super().preprocess(nb, resources, km)

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type != "code":
                return cell, resources
            if self._dead:
                cell.outputs = [new_output("error", ename="NotRun", traceback=[],
                                           evalue=f"not run: {self._dead}")]
                return cell, resources
            try:
                cell, resources = super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                why = (GradingExecute.kill_reason
                       or "the kernel died (os._exit, a crash or the memory limit)")
                self._dead = f"{why} in cell {index}"
                cell.outputs.append(new_output("error", ename="KernelDied", evalue=why, traceback=[]))
            except CellTimeoutError:   # interrupted after the time limit, it did not stop
                _kill_children()
                why = "the kernel ignored the interrupt after the time limit and was killed"
                self._dead = f"{why} in cell {index}"
                cell.outputs.append(new_output("error", ename="CellTimeoutError", evalue=why,
                                               traceback=[]))
            return cell, resources

    _EXECUTE = GradingExecute
    return GradingExecute


def _kernel_main(argv: list) -> None:
    """The grading kernel: limits first, then an ordinary IPython kernel."""
    memory = float(argv[0])
    limit = int(memory * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2**30, 2**30))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    import warnings

    warnings.simplefilter("ignore")   # nbgrader scores a check cell that writes to stderr as 0
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(argv=argv[1:])


# ------------------------------------------------------------------------------------- workers
def _grade_one(job: dict) -> dict:
    """Autograde one prepared submission in its own copy of the course (worker process)."""
    import logging

    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory

    import warnings

    warnings.filterwarnings("ignore", module="nbgrader")   # SQLAlchemy notes from nbgrader's API
    _env_path()
    os.environ["JUPYTER_PATH"] = str(Path(job["course"]) / "jupyter")
    root, sid, stem = Path(job["root"]), job["student"], job["stem"]
    c = _config(root, job["opts"])
    c.CourseDirectory.assignment_id, c.CourseDirectory.student_id = stem, sid
    handler = logging.FileHandler(root / "nbgrader.log")
    execute = _execute_class()
    execute.kill_reason = ""

    def timeout():
        execute.kill_reason = f"the submission passed the wall-clock limit of {job['opts']['wall']} s"
        _kill_children()

    watchdog = threading.Timer(job["opts"]["wall"], timeout)
    t0, cpu0, self0 = time.perf_counter(), _children_cpu(), _self_cpu()
    result = {"student": sid, "error": ""}
    watchdog.start()
    try:
        for app in (Autograde, GenerateFeedback):
            conv = app(coursedir=CourseDirectory(config=c), config=c)
            conv.log.addHandler(handler)
            conv.log.setLevel(logging.INFO)
            conv.start()
    except Exception as err:   # nbgrader wraps every failure in NbGraderException
        result["error"] = f"nbgrader failed: {type(err).__name__}: {err}"
    finally:
        watchdog.cancel()
        _kill_children()
    result["seconds"], result["kernel_cpu"] = time.perf_counter() - t0, _children_cpu() - cpu0
    result["cpu"] = result["kernel_cpu"] + _self_cpu() - self0
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", c.CourseDirectory.course_id) as gb:
        try:
            for g in gb.find_submission_notebook(stem, stem, sid).grades:
                scores[g.cell.name] = (g.auto_score, g.max_score, bool(g.needs_manual_grade))
        except Exception as err:
            result["error"] = result["error"] or f"no grades: {err}"
    result["scores"] = scores
    graded = root / "autograded" / sid / stem / f"{stem}.ipynb"
    result["problems"] = _problems(nbformat.read(graded, as_version=4)) if graded.exists() else []
    return result


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _problems(nb) -> list:
    """Short reasons from the error outputs of the autograded notebook."""
    out, not_run = [], None
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") != "error":
                continue
            if o.ename == "NotRun":
                not_run = not_run or (i, o.evalue)
            elif o.ename in ("CellTimeoutError", "KernelDied", "MemoryError", "SystemExit"):
                out.append(f"cell {i}: {o.ename}" + (f" ({o.evalue})" if o.evalue else ""))
    if not_run:
        out.append(f"cells {not_run[0]}+ {not_run[1]}")
    return out


# ---------------------------------------------------------------------------------------- main
def grade(sheet: str, submissions: Path, out: Path | None = None, workers: int | None = None,
          timeout: int = 60, memory: float = 4.0, wall: int = 900, log=print) -> Path:
    """Grade every submission of ``sheet`` (``"01"`` or a solution path); returns grades.csv."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    import warnings

    warnings.filterwarnings("ignore", module="nbgrader")   # SQLAlchemy notes from nbgrader's API
    solution = _find_sheet(sheet)
    submissions = Path(submissions).resolve()
    out = Path(out or submissions.parent / f"{submissions.name}_graded").resolve()
    if out == submissions or submissions in out.parents:
        raise ValueError("out must not be inside the submissions folder (it is never modified)")
    out.mkdir(parents=True, exist_ok=True)
    opts = {"timeout": timeout, "memory": memory, "wall": wall}
    course = setup_course(out, solution, opts)
    root, stem, release = course["root"], course["stem"], course["release"]
    expected = ROOT / "exercises" / solution.name
    if solution.parent == ROOT / "solutions" and expected.exists() and sheets.render(release) != expected.read_text():
        log(f"WARNING: exercises/{solution.name} differs from nbgrader's release: run `make sheets`")
    rows, jobs = {}, []
    for sid, path, reason in collect(submissions, f"{stem}.ipynb"):
        nb, why, notes = (None, reason, []) if reason else prepare(path, release)
        rows[sid] = {"reason": why, "notes": notes, "flags": review_flags(nb, release) if nb else []}
        if nb is None:
            continue
        sroot = out / "work" / sid
        shutil.rmtree(sroot, ignore_errors=True)
        (sroot / "submitted" / sid / stem).mkdir(parents=True)
        (sroot / "source" / stem).mkdir(parents=True)
        (sroot / "submitted" / sid / stem / f"{stem}.ipynb").write_text(sheets.render(nb))
        shutil.copy(root / "gradebook.template.db", sroot / "gradebook.db")
        jobs.append({"root": str(sroot), "course": str(root), "student": sid, "stem": stem,
                     "opts": opts})
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    log(f"grading {len(jobs)} submission(s) of {solution.name} with {workers} worker(s); "
        f"{len(rows) - len(jobs)} rejected")
    t0, done = time.perf_counter(), 0
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool, \
            Gradebook(f"sqlite:///{root / 'gradebook.db'}", "mathematics-of-ai") as gb:
        for fut in as_completed([pool.submit(_grade_one, j) for j in jobs]):
            res = fut.result()
            done += 1
            _merge(gb, res, out, stem)
            rows[res["student"]].update(res)
            auto = sum(s[0] or 0 for s in res["scores"].values())
            top = sum(s[1] for s in res["scores"].values())
            log(f"[{done}/{len(jobs)}] {res['student']}: {auto:g}/{top:g} ({res['seconds']:.0f} s, "
                f"CPU {res['cpu']:.0f} s){'; ' + res['error'] if res['error'] else ''}")
        CsvExportPlugin(to=str(root / "grades_nbgrader.csv")).export(gb)
    elapsed = time.perf_counter() - t0
    path = _write_csv(out / "grades.csv", rows, release)
    shutil.rmtree(out / "work", ignore_errors=True)
    cpu = [rows[j["student"]]["cpu"] for j in jobs]
    if cpu:
        per = sum(cpu) / len(cpu)
        log(f"{len(jobs)} submission(s) autograded in {elapsed:.0f} s "
            f"({60 * len(jobs) / max(elapsed, 1e-9):.1f} per minute with {workers} worker(s)); "
            f"{per:.0f} s of CPU each, so 300 take about {300 * per / 60 / workers:.0f} min on "
            f"{workers} free core(s)")
    log(f"wrote {path} and {len(list((out / 'feedback').glob('*.html')))} feedback page(s)")
    return path


def _merge(gb, res: dict, out: Path, stem: str) -> None:
    """Copy one student's autograded notebook, feedback and grades into the course."""
    sid, work, root = res["student"], out / "work" / res["student"], out / "course"
    for kind in ("submitted", "autograded", "feedback"):
        src = work / kind / sid
        if src.exists():
            shutil.rmtree(root / kind / sid, ignore_errors=True)
            shutil.copytree(src, root / kind / sid)
    html = work / "feedback" / sid / stem / f"{stem}.html"
    if html.exists():
        (out / "feedback").mkdir(exist_ok=True)
        shutil.copy(html, out / "feedback" / f"{sid}.html")
    (out / "logs").mkdir(exist_ok=True)
    if (work / "nbgrader.log").exists():
        shutil.copy(work / "nbgrader.log", out / "logs" / f"{sid}.log")
    gb.update_or_create_student(sid)
    gb.update_or_create_submission(stem, sid)
    for g in gb.find_submission_notebook(stem, stem, sid).grades:
        auto, _, manual = res["scores"].get(g.cell.name, (0.0, None, False))
        g.auto_score, g.needs_manual_grade = (auto, manual) if not res["error"] else (0.0, False)
    gb.db.commit()


def _write_csv(path: Path, rows: dict, release) -> Path:
    labels = exercise_of(release)
    points = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
              for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")}
    columns = list(dict.fromkeys(labels.values()))
    maxima = {e: sum(p for g, p in points.items() if labels[g] == e) for e in columns}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student_id", "status", *[f"{e} (/{maxima[e]:g})" for e in columns],
                    f"total (/{sum(points.values()):g})", "to grade by hand", "reason", "review"])
        for sid, row in sorted(rows.items()):
            scores = row.get("scores", {})
            got = {e: sum((scores.get(g, (0,))[0] or 0) for g in points if labels[g] == e)
                   for e in columns}
            pending = sum(points[g] for g, s in scores.items() if s[2] and g in points)
            status = ("rejected" if row["reason"].startswith("rejected") else
                      "failed" if row.get("error") else "graded")
            reason = "; ".join(filter(None, [row["reason"], row.get("error", ""), *row["notes"],
                                             *row.get("problems", [])]))
            w.writerow([sid, status, *[f"{got[e]:g}" for e in columns], f"{sum(got.values()):g}",
                        f"{pending:g}", reason, "; ".join(row["flags"])])
    return path


def _find_sheet(sheet: str) -> Path:
    p = Path(sheet)
    if p.suffix == ".ipynb" and p.exists():
        return p.resolve()
    hits = sorted((ROOT / "solutions").glob(f"{sheet}_*.ipynb")) if re.fullmatch(r"\d\d", sheet) else []
    if len(hits) != 1:
        raise ValueError(f"SHEET={sheet!r}: expected a two-digit sheet number (one of "
                         f"{[q.name[:2] for q in sorted((ROOT / 'solutions').glob('*.ipynb'))]})")
    return hits[0]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--kernel"]:
        _kernel_main(argv[1:])
        return 0
    p = argparse.ArgumentParser(prog="python -m course_lib.grading", description=__doc__.split("\n")[0])
    p.add_argument("sheet", help="two-digit sheet number (01) or a solution notebook")
    p.add_argument("submissions", type=Path, help="folder of <id>.ipynb or <id>/NN_topic.ipynb")
    p.add_argument("--out", type=Path, help="output folder (default: <submissions>_graded)")
    p.add_argument("--workers", type=int, help="parallel graders (default: the number of cores)")
    p.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")
    p.add_argument("--memory", type=float, default=4.0, help="GiB per grading kernel (default 4)")
    p.add_argument("--wall", type=int, default=900, help="seconds per submission (default 900)")
    a = p.parse_args(argv)
    if not a.submissions.is_dir():
        p.error(f"SUBMISSIONS={a.submissions}: not a folder")
    try:
        grade(a.sheet, a.submissions, a.out, a.workers, a.timeout, a.memory, a.wall)
    except ValueError as err:
        p.error(str(err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
