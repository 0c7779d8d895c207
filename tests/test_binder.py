"""The Binder configuration agrees with the tested lock (it cannot reach Binder from here)."""
import os
import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests._helpers import ROOT

BINDER = ROOT / "binder"
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def pins(path) -> dict:
    """``{name: version}`` of the ``name==version`` lines of a requirements file."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            spec = list(req.specifier)
            assert len(spec) == 1 and spec[0].operator == "==", f"{path.name}: {line} is not pinned"
            out[canonicalize_name(req.name)] = spec[0].version
    return out


def test_binder_installs_the_cpu_build_of_the_locked_torch():
    text = (BINDER / "requirements.txt").read_text()
    assert CPU_INDEX in text.splitlines(), "torch must come from PyTorch's CPU index"
    locked = pins(ROOT / "requirements.txt")["torch"]
    assert pins(BINDER / "requirements.txt")["torch"] == f"{Version(locked).public}+cpu"


def test_binder_pins_every_dependency_of_course_lib_at_the_locked_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    binder, locked = pins(BINDER / "requirements.txt"), pins(ROOT / "requirements.txt")
    for dep in map(Requirement, project["dependencies"]):
        name = canonicalize_name(dep.name)
        assert name in binder, f"binder/requirements.txt does not install {dep.name}"
        assert Version(binder[name]) in dep.specifier, f"{name}=={binder[name]} breaks {dep}"
        if name != "torch":
            assert binder[name] == locked[name], \
                f"binder pins {name}=={binder[name]}, the lock requirements.txt has {locked[name]}"
    extra = set(binder) - {canonicalize_name(Requirement(d).name) for d in project["dependencies"]}
    assert not extra, f"binder installs more than course_lib needs: {sorted(extra)}"


def test_binder_installs_course_lib_and_uses_the_course_python():
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    assert re.search(r"pip install --no-deps .*\.\s*$", post.read_text(), re.M)
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert "Python 3.11" in (ROOT / "README.md").read_text()
