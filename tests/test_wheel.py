"""The wheel carries everything quotestance needs at run time (issue 15).

The wheel is built (``pip wheel --no-deps --no-build-isolation``, ≈ 3 s) from a copy of the
files git tracks, so neither a stale ``build/`` folder nor untracked files of the checkout can
hide a missing file; training leftovers planted in the copy must stay out of the wheel.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RESOURCES = "quotestance/resources/"
# what the pipeline loads; named here, not derived, so a layout without them fails
REQUIRED = (
    "tagger/tagger.safetensors",
    "tagger/tagger.json",
    "stance_model/stance.safetensors",
    "stance_model/stance.json",
    "stance_model/targets.json",
    "speakers/linker.json",
    "actors/builtin.yaml",
    "actors/people.tsv.gz",
    "cues/cues.tsv",
    "cues/speech_acts.tsv",
)
LEFTOVERS = (  # written by training runs or Python beside the shipped files
    "tagger/checkpoint/state.pt",
    "stance_model/checkpoint.pt",
    "__pycache__/__init__.cpython-311.pyc",
)


def _tracked() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    done = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return [name for name in done.stdout.decode("utf-8").split("\0") if name]


def _needed_for_build(name: str) -> bool:
    return name.startswith("quotestance/") or "/" not in name  # package, pyproject, README


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[list[str], zipfile.ZipFile]:
    pytest.importorskip("setuptools")
    tracked = [name for name in _tracked() if (REPO / name).is_file()]
    source = tmp_path_factory.mktemp("source")
    for name in filter(_needed_for_build, tracked):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    for name in LEFTOVERS:
        (source / RESOURCES / name).parent.mkdir(parents=True, exist_ok=True)
        (source / RESOURCES / name).write_bytes(b"leftover")
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*command, "--no-index", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (built,) = out.glob("quotestance-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield tracked, archive


def test_the_wheel_holds_every_tracked_resource(wheel):
    tracked, archive = wheel
    names = set(archive.namelist())
    resources = [name for name in tracked if name.startswith(RESOURCES)]
    assert [name for name in resources if name not in names] == []
    for name in REQUIRED:
        assert RESOURCES + name in resources, f"{name} is not tracked in {RESOURCES}"
        assert RESOURCES + name in names, f"{name} is not in the wheel"
    # the weights arrive whole (not Git LFS pointers or empty files)
    for name in ("tagger/tagger.safetensors", "stance_model/stance.safetensors"):
        assert (
            archive.getinfo(RESOURCES + name).file_size == (REPO / RESOURCES / name).stat().st_size
        )
        assert archive.getinfo(RESOURCES + name).file_size > 1_000_000


def test_the_wheel_holds_every_module_and_no_leftovers(wheel):
    tracked, archive = wheel
    names = set(archive.namelist())
    modules = [name for name in tracked if name.startswith("quotestance/") and name.endswith(".py")]
    assert [name for name in modules if name not in names] == []
    package = {name for name in names if name.startswith("quotestance/")}
    assert package <= set(tracked), sorted(package - set(tracked))
    assert not [name for name in names if name.endswith((".pt", ".pyc"))]
