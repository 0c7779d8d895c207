"""Generate the student exercise sheets from the solution sheets.

``solutions/NN_topic.ipynb`` is the source of truth. In its code cells, the lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are what students write; in markdown cells, the
text between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` is a written answer.
The student sheet ``exercises/NN_topic.ipynb`` replaces each code block by
``# YOUR CODE HERE`` / ``raise NotImplementedError()`` (at the block's indentation) and each written
answer by a prompt, and drops every output. Generation is deterministic and idempotent.

Command line::

    python -m course_lib.sheets            # regenerate every student sheet
    python -m course_lib.sheets --check    # exit 1 if a student sheet is out of date
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

BEGIN_CODE, END_CODE = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_MD, END_MD = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
CODE_BLANK = ["# YOUR CODE HERE", "raise NotImplementedError()"]
MD_BLANK = "**Your answer:** *write it here.*"
BANNER = ("> **Student version.** Fill in every `# YOUR CODE HERE` (and delete the "
          "`raise NotImplementedError()` below it), then run the check cell that follows.\n"
          "> This sheet is generated from `solutions/{name}`; do not edit it by hand.")
_KEEP_CELL_META = ("tags", "editable", "deletable")


def strip_code(source: str, where: str = "cell") -> str:
    """Replace each solution block of a code cell by ``# YOUR CODE HERE`` + ``raise NotImplementedError()``."""
    out, inside, indent = [], False, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN_CODE:
            if inside:
                raise ValueError(f"{where}: nested {BEGIN_CODE}")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.extend(indent + b for b in CODE_BLANK)
        elif stripped == END_CODE:
            if not inside:
                raise ValueError(f"{where}: {END_CODE} without {BEGIN_CODE}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN_CODE} is never closed")
    return "\n".join(out)


def strip_markdown(source: str, where: str = "cell") -> str:
    """Replace each written answer of a markdown cell by a prompt for the student."""
    pattern = re.compile(re.escape(BEGIN_MD) + r".*?" + re.escape(END_MD), re.S)
    if source.count(BEGIN_MD) != source.count(END_MD):
        raise ValueError(f"{where}: unbalanced {BEGIN_MD} / {END_MD}")
    return pattern.sub(MD_BLANK, source)


def has_solution(nb) -> bool:
    """Whether a notebook holds at least one solution block."""
    return any(BEGIN_CODE in c.source or BEGIN_MD in c.source for c in nb.cells)


def student_version(nb, name: str = "the solution sheet"):
    """Return a new notebook: the student sheet generated from the solution notebook ``nb``."""
    if not has_solution(nb):
        raise ValueError(f"{name} holds no {BEGIN_CODE} block: nothing for students to write")
    st = nbformat.v4.new_notebook()
    st.metadata = {k: copy.deepcopy(v) for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
    st.metadata.get("language_info", {}).pop("version", None)
    banner = nbformat.v4.new_markdown_cell(BANNER.format(name=name))
    banner.id = "student-banner"
    st.cells.append(banner)
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i}"
        meta = {k: copy.deepcopy(v) for k, v in cell.metadata.items() if k in _KEEP_CELL_META}
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(strip_code(cell.source, where), metadata=meta)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(strip_markdown(cell.source, where), metadata=meta)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=meta)
        new.id = cell.get("id") or f"cell-{i}"
        st.cells.append(new)
    return st


def render(nb) -> str:
    """The exact text written to disk (nbformat's JSON, one trailing newline)."""
    return nbformat.writes(nb) + "\n"


def generate(solution: Path, exercises_dir: Path, check: bool = False) -> bool:
    """Write (or, with ``check``, compare) the student sheet of ``solution``; True if up to date."""
    solution = Path(solution)
    nb = nbformat.read(solution, as_version=4)
    text = render(student_version(nb, solution.name))
    target = Path(exercises_dir) / solution.name
    current = target.read_text() if target.exists() else None
    if check:
        return current == text
    if current != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return True


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m course_lib.sheets", description=__doc__.split("\n")[0])
    p.add_argument("solutions", nargs="*", type=Path, help="solution notebooks (default: solutions/*.ipynb)")
    p.add_argument("--exercises", type=Path, default=Path("exercises"), help="output folder")
    p.add_argument("--check", action="store_true", help="only check that the student sheets are up to date")
    args = p.parse_args(argv)
    paths = args.solutions or sorted(Path("solutions").glob("*.ipynb"))
    stale = [s for s in paths if not generate(s, args.exercises, check=args.check)]
    if args.check:
        for s in stale:
            print(f"out of date: {args.exercises / s.name} (run `make sheets`)")
        print(f"{len(paths) - len(stale)} of {len(paths)} student sheets up to date")
        return 1 if stale else 0
    print(f"wrote {len(paths)} student sheet(s) to {args.exercises}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
