"""The Colab path: course_lib's wheel installs over an older preinstalled image and a chapter runs.

A fresh venv holds the third-party packages at the *lowest* versions ``pyproject.toml`` allows
(each with a wheel for this Python; torch at the locked CPU build, since any other version pulls
CUDA wheels) plus a Jupyter kernel: what an older Colab image looks like. The notebook of
chapter 1 then runs in that venv as on Colab: a stub ``google.colab`` module makes its setup cell
take the Colab branch, whose ``%pip install "course_lib @ git+..."`` is pointed at the wheel built
here, with no package index (pip must keep every preinstalled package). The venv with the old
packages is kept in ``_build/colab-venv`` between runs (rebuilt when the bounds change); the wheel
and course_lib's installation are redone every time.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import nbformat
import pytest
from nbclient import NotebookClient
from packaging.requirements import Requirement
from packaging.version import Version

from tests._helpers import ROOT, repository_url

pytestmark = pytest.mark.slow
NOTEBOOK = ROOT / "notebooks" / "01_smooth_optimization.ipynb"
VENV = ROOT / "_build" / "colab-venv"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"


def lowest_pins() -> list:
    """``name==version`` for course_lib's dependencies: the lower bound of pyproject.toml, torch
    at the locked CPU build."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lock = (ROOT / "requirements.txt").read_text()
    locked = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock, re.M))
    pins = []
    for dep in map(Requirement, deps):
        if dep.name == "torch":
            pins.append(f"torch=={locked['torch'].split('+')[0]}+cpu")
            continue
        (spec,) = dep.specifier
        assert spec.operator == ">=", f"{dep}: expected a lower bound"
        pins.append(f"{dep.name}=={spec.version}")
    return pins


def pip(python, *args, **kw):
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **kw.pop("env", {})}
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True,
                          env=env, **kw)


@pytest.fixture(scope="module")
def old_image():
    """The venv with the lowest allowed versions (cached), course_lib not installed."""
    pins = lowest_pins()
    key = hashlib.sha256(json.dumps(pins + [sys.version]).encode()).hexdigest()[:16]
    python, ready = VENV / "bin" / "python", VENV / "ready"
    if not ready.exists() or ready.read_text() != key:
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        proc = pip(python, "install", "--only-binary=:all:", "--extra-index-url", TORCH_INDEX,
                   *pins, "ipykernel")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        ready.write_text(key)
    pip(python, "uninstall", "-y", "course_lib")
    return python, pins


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """course_lib's wheel, built from a copy of the package (the worktree stays clean)."""
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(ROOT / "course_lib", src / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    proc = pip(sys.executable, "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(src))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = out.glob("course_lib-*.whl")
    return whl


def installed(python) -> dict:
    proc = pip(python, "list", "--format=json")
    return {p["name"].lower(): p["version"] for p in json.loads(proc.stdout)}


PRELUDE = """
import sys, types
sys.modules["google"] = types.ModuleType("google")
sys.modules["google.colab"] = types.ModuleType("google.colab")      # what Colab's kernel has
_ip = get_ipython()
_real_pip = _ip.find_line_magic("pip")


def _pip(line):
    line = line.replace({url!r}, {wheel!r})
    assert {wheel!r} in line, "the setup cell does not install course_lib from the repository"
    return _real_pip(line)


_ip.register_magic_function(_pip, "line", "pip")
"""


def test_chapter_runs_on_the_oldest_allowed_packages(old_image, wheel, tmp_path):
    python, pins = old_image
    before = installed(python)
    for pin in pins:
        name, version = pin.split("==")
        assert Version(before[name.lower()]) == Version(version), \
            f"the old image has {name} {before[name.lower()]}, not {version}"
    kernels = tmp_path / "jupyter" / "kernels" / "old-image"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "old image", "language": "python",
        "env": {"PYTHONPATH": "", "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}}))
    os.environ["JUPYTER_PATH"] = str(tmp_path / "jupyter")
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        url = f'"course_lib @ git+{repository_url()}"'
        client = NotebookClient(nb, timeout=600, kernel_name="old-image", allow_errors=False,
                                resources={"metadata": {"path": str(tmp_path)}})
        with client.setup_kernel():
            client.wait_for_reply(client.kc.kernel_info())
            code = PRELUDE.format(url=url, wheel=f'"course_lib @ {wheel.as_uri()}"')
            reply = client.wait_for_reply(client.kc.execute(code, silent=True, store_history=False))
            assert reply["content"]["status"] == "ok", reply["content"]
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            where = client.wait_for_reply(client.kc.execute(
                "", silent=True, user_expressions={"f": "__import__('course_lib').__file__"}))
    finally:
        os.environ.pop("JUPYTER_PATH", None)
    origin = where["content"]["user_expressions"]["f"]["data"]["text/plain"]
    assert str(VENV) in origin, f"course_lib was imported from {origin}, not from the wheel"
    after = installed(python)
    assert after.pop("course-lib", after.pop("course_lib", None)) == "0.1.0"
    changed = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
    assert not changed, f"installing course_lib changed preinstalled packages: {changed}"
