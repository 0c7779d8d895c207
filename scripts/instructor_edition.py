"""Build the instructor edition of the website (`make book EDITION=instructor`).

The same book, with each chapter's solution sheet (`solutions/NN_topic.ipynb`, executed, with
its written answers) in place of the student sheet (`exercises/NN_topic.ipynb`), at the same
address, so that every link of the notes leads to it. It is built from a staging folder,
`_build/instructor/src` (links to `book/`, `notebooks/`, ...; `exercises/` holds copies of the
solution sheets), into its own folder `_build/instructor/_build/html`, and every page says that
it is the instructor edition. The student edition (`make book`) never contains a solution.

    python scripts/instructor_edition.py [jupyter-book build options, e.g. -W -n --keep-going]
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "instructor"
LINKED = ["book", "notebooks", "_toc.yml"]
ANNOUNCEMENT = ("Instructor edition: the exercise sheets show their solutions. "
                "Do not publish it where students can read it.")


def stage(out: Path = OUT) -> Path:
    """Write the staging folder of the instructor edition; return it."""
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    (src / "_build").mkdir(parents=True)
    for name in LINKED:
        (src / name).symlink_to(ROOT / name)
    (src / "_build" / "offline_assets").symlink_to(ROOT / "_build" / "offline_assets")
    (src / "exercises").mkdir()
    for sheet in sorted((ROOT / "exercises").glob("*.ipynb")):
        solution = ROOT / "solutions" / sheet.name
        if not solution.exists():
            raise SystemExit(f"exercises/{sheet.name} has no solution sheet solutions/{sheet.name}")
        shutil.copy(solution, src / "exercises" / sheet.name)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["title"] = f"{config['title']} (instructor edition)"
    config.setdefault("html", {})["announcement"] = ANNOUNCEMENT
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return src


def build(options: list[str], out: Path = OUT) -> subprocess.CompletedProcess:
    """Stage and build the instructor edition into ``out/_build/html``."""
    src = stage(out)
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb), "build", str(src), "--path-output", str(out), *options]
    return subprocess.run(cmd, cwd=src, capture_output=True, text=True)


def main(argv: list[str]) -> int:
    proc = build(argv)
    print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
    if proc.returncode == 0:
        print(f"Instructor edition built: open file://{OUT}/_build/html/index.html")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
