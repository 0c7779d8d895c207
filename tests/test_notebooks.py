"""House rules of the stored notebooks (lectures and solution sheets are committed executed)."""
import ast
import re

import pytest

from tests._helpers import (EXECUTED, EXERCISES, LECTURES, ROOT, SOLUTIONS, code_cells, load,
                            repository_url, source)

SETUP_HEAD = [
    "# Setup: on Colab only, install course_lib; then imports, one seed, the device.",
    "import sys",
    'if "google.colab" in sys.modules:',
    '    %pip install -q "course_lib @ git+{url}"',
]
ids = lambda paths: [p.relative_to(ROOT).as_posix() for p in paths]  # noqa: E731


def test_there_are_notebooks():
    assert LECTURES, "no lecture notebook in notebooks/"


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_executed_in_order_without_errors(path):
    cells = code_cells(load(path))
    counts = [c.get("execution_count") for c in cells]
    assert counts == list(range(1, len(cells) + 1)), \
        f"execution counts {counts[:10]}...: run `make execute NB={path.relative_to(ROOT)}`"
    for i, c in enumerate(cells):
        for o in c.get("outputs", []):
            assert o["output_type"] != "error", f"code cell {i} stores an error: {o.get('ename')}"
            data = o.get("data", {})
            text = "".join(data.get("text/plain", ""))
            stray = "image/png" not in data and re.match(r"<Figure size|\[?<matplotlib|Text\(", text)
            assert not stray, f"code cell {i} prints {text[:60]!r}: end plotting cells with plt.show()"


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_size_below_4mb(path):
    assert path.stat().st_size < 4_000_000, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB"


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_title_and_canonical_setup_cell(path):
    nb = load(path)
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown", "the first cell is the title cell"
    assert re.match(r"# \d\d · \S", source(first)), "the title cell starts with `# NN · Title`"
    setup = source(code_cells(nb)[0]).splitlines()
    head = [line.format(url=repository_url()) for line in SETUP_HEAD]
    assert setup[: len(head)] == head, "the setup cell starts with the canonical Colab install lines"
    rest = [line for line in setup[len(head):] if line.strip() and not line.lstrip().startswith("#")]
    assert sum("seed_everything(" in line for line in rest) == 1, "one seed, set by seed_everything"
    assert any("default_device()" in line for line in rest), "the device comes from default_device()"
    for line in rest:
        ok = (line.startswith(("import ", "from ")) or re.match(r"(rng|device) = ", line))
        assert ok, f"the setup cell holds only imports, the seed and the device, not {line!r}"


def display_math_problems(text: str) -> list:
    """Line numbers of `$$` blocks that are not separated from the text by blank lines."""
    lines, inside, bad = text.split("\n"), False, []
    blank = lambda n: n < 0 or n >= len(lines) or not lines[n].strip()  # noqa: E731
    for j, line in enumerate(lines):
        s = line.strip()
        opens = not inside and s.startswith("$$")
        closes = (inside or (opens and len(s) > 4)) and s.endswith("$$")
        if opens and not blank(j - 1):
            bad.append(j + 1)
        if closes and not blank(j + 1):
            bad.append(j + 1)
        if opens and not closes:
            inside = True
        elif closes:
            inside = False
    return bad


def test_display_math_check_itself():
    assert display_math_problems("text\n\n$$\nx\n$$\n\nmore") == []
    assert display_math_problems("text\n$$\nx\n$$\nmore") == [2, 4]
    assert display_math_problems("a\n\n$$x = 1$$\nb") == [3]


@pytest.mark.parametrize("path", EXECUTED + EXERCISES, ids=ids(EXECUTED + EXERCISES))
def test_display_math_stands_in_its_own_paragraph(path):
    """`$$` blocks need a blank line around them, or MyST (the website) mangles the paragraph."""
    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] == "markdown":
            bad = display_math_problems(source(cell))
            assert not bad, f"markdown cell {i}: put blank lines around the $$ block(s) at line(s) {bad}"


@pytest.mark.parametrize("path", EXERCISES, ids=ids(EXERCISES))
def test_student_sheets_have_no_outputs(path):
    for c in code_cells(load(path)):
        assert not c.get("outputs") and c.get("execution_count") is None


def test_every_notebook_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for path in LECTURES + EXERCISES:
        stem = path.relative_to(ROOT).with_suffix("").as_posix()
        assert f"file: {stem}" in toc, f"{stem} is missing from _toc.yml"
    for chapter in LECTURES:
        assert f"file: book/{chapter.stem}" in toc


def private_course_lib_names(code: str) -> list:
    """Private names of course_lib used by some code: ``from course_lib.x import _y``,
    ``import course_lib._x``, or ``m._y`` where ``m`` is bound to a course_lib module."""
    lines = code.splitlines()   # IPython magics (%pip, !ls) become `pass`, at their indentation
    code = "\n".join(line[: len(line) - len(line.lstrip())] + "pass"
                     if line.lstrip().startswith(("%", "!")) else line for line in lines)
    tree, modules, bad = ast.parse(code), set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "course_lib":
                    bad += [part for part in a.name.split(".") if part.startswith("_")]
                    modules.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "course_lib":
            bad += [part for part in node.module.split(".") if part.startswith("_")]
            bad += [a.name for a in node.names if a.name.startswith("_")]
            modules |= {a.asname or a.name for a in node.names}   # submodules imported by name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.attr.startswith("_")):
            bad.append(f"{node.value.id}.{node.attr}")
    return bad


def test_private_name_check_itself():
    assert private_course_lib_names("from course_lib import prox\nprox._tau(1)") == ["prox._tau"]
    assert private_course_lib_names("from course_lib._shared import soft") == ["_shared"]
    assert private_course_lib_names("from course_lib.lasso import _gap") == ["_gap"]
    assert private_course_lib_names("import course_lib\nimport numpy as np\nnp._x") == []


@pytest.mark.parametrize("path", LECTURES + SOLUTIONS + EXERCISES, ids=ids(LECTURES + SOLUTIONS + EXERCISES))
def test_no_notebook_uses_a_private_name_of_course_lib(path):
    code = "\n".join(source(c) for c in code_cells(load(path)))
    bad = private_course_lib_names(code)
    assert not bad, f"{path.name} uses private names of course_lib: {bad} (use public ones)"
