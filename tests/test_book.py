"""The website: builds with zero warnings from stored outputs, and renders offline in a browser."""
import functools
import html as html_lib
import http.server
import json
import re
import shutil
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from course_lib import sheets
from tests._helpers import LECTURES, ROOT, SOLUTIONS

pytestmark = pytest.mark.book
ASSETS = ROOT / "_build" / "offline_assets"
CDN = re.compile(r"https?://(cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|polyfill\.io)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not (ASSETS / "versions.json").exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "offline_assets.py")], check=True)
    out = tmp_path_factory.mktemp("site")
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, cwd=ROOT)
    log = proc.stdout + proc.stderr
    return proc.returncode, log, out / "_build" / "html"


@pytest.fixture(scope="module")
def instructor_site(site, tmp_path_factory):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import instructor_edition
    finally:
        sys.path.pop(0)
    out = tmp_path_factory.mktemp("instructor")
    proc = instructor_edition.build(["-W", "-n", "--keep-going"], out=out)
    return proc.returncode, proc.stdout + proc.stderr, out / "_build" / "html"


def page_text(path: Path) -> str:
    """The visible text of a built page, whitespace collapsed."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", path.read_text(), flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", "", text)))


def secrets(solution: Path) -> list:
    """Pieces of the solution sheet's answers that the student sheet does not show: whole code
    lines, and runs of plain words of the written answers (math and markup left out)."""
    nb = json.loads(solution.read_text())
    shown = (ROOT / "exercises" / solution.name).read_text()
    out = []
    for cell in nb["cells"]:
        inside, _ = sheets._regions("".join(cell["source"]))
        for line in inside:
            if cell["cell_type"] == "code":
                pieces = [line] if len(line) >= 12 else []
            else:
                pieces = [p.strip(" ,.:;") for p in re.split(r"\$[^$]*\$|[*`_\\\[\]{}]", line)]
                pieces = [p for p in pieces if len(p) >= 20 and p.count(" ") >= 3
                          and re.fullmatch(r"[A-Za-z ,;:()]+", p)]
            out += [re.sub(r"\s+", " ", p) for p in pieces if p not in shown]
    return out


def test_site_builds_with_zero_warnings(site):
    code, log, html = site
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert code == 0 and not warnings, "\n".join(warnings[:20]) or log[-3000:]
    assert (html / "index.html").exists()


def test_instructor_edition_builds_and_no_solution_reaches_the_student_edition(site, instructor_site):
    code, log, html = instructor_site
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert code == 0 and not warnings, "\n".join(warnings[:20]) or log[-3000:]
    assert not list(site[2].rglob("solutions")), "the student edition has a solutions/ folder"
    for solution in SOLUTIONS:
        found = secrets(solution)
        assert len(found) >= 5, f"too few solution lines found in {solution.name} to test anything"
        student = page_text(site[2] / "exercises" / f"{solution.stem}.html")
        teacher = page_text(html / "exercises" / f"{solution.stem}.html")
        leaked = [s for s in found if s in student]
        assert not leaked, f"solution text in the student edition of {solution.name}: {leaked[:3]}"
        shown = [s for s in found if s in teacher]
        assert len(shown) >= 0.8 * len(found), f"{solution.name}: the check finds too few " \
            f"solution lines in the instructor edition ({len(shown)} of {len(found)})"
        assert "Instructor edition" in teacher and "Instructor edition" not in student


def test_every_notebook_page_is_built_with_launch_buttons(site):
    html = site[2]
    for nb in LECTURES:
        page = html / "notebooks" / f"{nb.stem}.html"
        assert page.exists(), f"{page.name} was not built"
        text = page.read_text()
        assert "colab.research.google.com" in text and "mybinder.org" in text, "launch buttons missing"


def test_no_cdn_and_local_mathjax(site):
    html = site[2]
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert (html / "_static" / "widgets" / "embed-amd.js").exists()
    for page in html.rglob("*.html"):
        text = page.read_text(errors="replace")
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', text)
        remote = [s for s in scripts if CDN.match(s) or s.startswith("http")]
        assert not remote, f"{page.relative_to(html)} loads scripts from the internet: {remote}"


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def server(site):
    html = site[2]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    handler.log_message = lambda *a: None
    with socketserver.TCPServer(("127.0.0.1", 0), handler) as httpd:
        t = threading.Thread(target=httpd.serve_forever, daemon=True)
        t.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()


def dump_dom(url: str, tmp: Path) -> str:
    chromium = _chromium()
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
           f"--user-data-dir={tmp}", "--virtual-time-budget=20000", "--dump-dom", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def unrendered_math(dom: str) -> list:
    """LaTeX left as text on a rendered page (outside MathJax output, code and scripts)."""
    body = re.sub(r"<(script|style|pre|code)[^>]*>.*?</\1>", "", dom, flags=re.S)
    body = re.sub(r"<mjx-container.*?</mjx-container>", "", body, flags=re.S)
    body = re.sub(r"<[^>]+>", " ", body)                             # keep the text only
    return re.findall(r"\$\$|\\\(|\\\[|\\[A-Za-z]{2,}|\$[^$\s][^$<>]{0,40}\$", body)


def test_unrendered_math_detector():
    assert unrendered_math("<p>fine <mjx-container>\\frac</mjx-container></p><pre>\\alpha $x$</pre>") == []
    assert unrendered_math("<p>broken \\operatorname{sign}(v)</p>") == ["\\operatorname"]
    assert unrendered_math("<p>left $x_1$ here</p>") == ["$x_1$"]


def built_pages(html: Path) -> list:
    pages = [html / "book" / "intro.html", html / "book" / "notation.html"]
    for kind in ("book", "notebooks", "exercises"):
        pages += sorted(p for p in (html / kind).glob("[0-9][0-9]_*.html"))
    return pages


@pytest.mark.browser
def test_every_page_renders_math_and_widgets_offline(site, server, tmp_path):
    if _chromium() is None:
        pytest.skip("!!! SKIPPED: Chromium is not installed, the offline-rendering test of the website "
                    "did not run (apt-get install chromium) !!!")
    html = site[2]
    pages = built_pages(html)
    assert len(pages) >= 3 * len(LECTURES) + 2
    problems = []
    for i, page in enumerate(pages):
        rel = page.relative_to(html).as_posix()
        raw = page.read_text()
        dom = dump_dom(f"{server}/{rel}", tmp_path / f"profile{i}")
        if "$" in raw or "\\(" in raw or "math" in raw:
            if "<mjx-merror" in dom:
                problems.append(f"{rel}: MathJax reported a TeX error")
        left = unrendered_math(dom)
        if left:
            problems.append(f"{rel}: unrendered math {left[:4]}")
        if "application/vnd.jupyter.widget-view+json" in raw and "lm-Widget" not in dom:
            problems.append(f"{rel}: the Jupyter widget manager did not render the widgets")
    assert not problems, "\n".join(problems)
    dom = dump_dom(f"{server}/notebooks/{LECTURES[0].stem}.html", tmp_path / "profile-first")
    assert dom.count("<mjx-container") > 20, "MathJax did not typeset the first chapter's tour"
    assert "widget-slider" in dom, "the slider of the first chapter's tour was not rendered"
