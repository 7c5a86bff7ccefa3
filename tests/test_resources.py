"""The shipped run-time files (``quotestance/resources/``), their versions, ``--version`` and
``evaluate --help`` (issue 15). Fast: no model is loaded."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from quotestance import __version__, cli, resources
from quotestance.evaluation import evaluate as evaluation

PACKAGE = Path(resources.__file__).resolve().parents[1]


def test_every_default_path_lies_in_the_package():
    from quotestance.detect.lexicon import CUES_FILE, DATA_DIR
    from quotestance.detect.tagger_files import DEFAULT_TAGGER_DIR, WEIGHTS_FILE
    from quotestance.speakers.actors import BUILTIN
    from quotestance.speakers.linker import DEFAULT_MODEL
    from quotestance.stance.files import DEFAULT_STANCE_DIR
    from quotestance.stance.files import WEIGHTS_FILE as STANCE_WEIGHTS

    root = PACKAGE / "resources"
    for path in (
        DATA_DIR / CUES_FILE,
        DEFAULT_TAGGER_DIR / WEIGHTS_FILE,
        DEFAULT_STANCE_DIR / STANCE_WEIGHTS,
        DEFAULT_MODEL,
        BUILTIN,
    ):
        assert path.is_file(), path
        assert path.resolve().is_relative_to(root), path


def _listing_digest(folder: Path, names: tuple[str, ...]) -> str:
    """``sha256sum NAMES | sha256sum``, as the docstring of component_digest promises."""
    lines = "".join(
        f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def test_model_versions_are_short_digests_of_the_shipped_files():
    versions = resources.model_versions()
    assert list(versions) == ["tagger", "stance", "speakers", "cues", "actors"]
    for name, (folder, files) in resources.COMPONENTS.items():
        expected = _listing_digest(PACKAGE / "resources" / folder, files)
        assert resources.component_digest(name) == expected
        assert versions[name] == expected[:12]
    assert resources.model_versions() is versions  # hashed once per process


def test_a_missing_component_is_named_missing(monkeypatch):
    monkeypatch.setitem(resources.COMPONENTS, "ghost", ("ghost", ("ghost.safetensors",)))
    assert resources.component_digest("ghost") is None


def test_version_names_the_package_and_every_model(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    line = capsys.readouterr().out.strip()
    hexes = r"[0-9a-f]{12}"
    pattern = rf"quotestance {re.escape(__version__)} \(tagger {hexes}, stance {hexes}, "
    pattern += rf"speakers {hexes}, cues {hexes}, actors {hexes}\)"
    assert re.fullmatch(pattern, line), line
    assert line == resources.version_string()


def _options(parser) -> list[str]:
    return [o for action in parser._actions for o in action.option_strings if o != "-h"]


def test_evaluate_help_lists_the_evaluation_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["evaluate", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    options = _options(evaluation.build_parser())
    assert len(options) >= 8
    for option in options:
        assert option in text, option
    assert evaluation.DESCRIPTION in text
    assert "passed to the evaluation" not in text


def test_evaluate_parses_as_the_evaluation_does(monkeypatch):
    argv = ["--system", "rules", "tagger", "--limit", "3", "--corpora", "spkatt-news-dev"]
    ours = vars(cli.build_parser().parse_args(["evaluate", *argv]))
    assert ours.pop("command") == "evaluate"
    assert ours == vars(evaluation.build_parser().parse_args(argv))
    seen = []
    monkeypatch.setattr(evaluation, "run", lambda args: seen.append(args) or 0)
    assert cli.main(["evaluate", *argv]) == 0
    assert seen[0].system == ["rules", "tagger"] and seen[0].limit == 3


def test_evaluate_refuses_an_unknown_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["evaluate", "--corpora", "nope"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_resources_read_from_a_zipped_package(tmp_path):
    """Imported from a zip file, the resources are extracted once to real files."""
    archive = tmp_path / "quotestance.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out.write(path, path.relative_to(PACKAGE.parent).as_posix())
    script = (
        "import json, quotestance.resources as r\n"
        "from quotestance.detect.lexicon import CueLexicon\n"
        "assert '.zip' in r.__file__, r.__file__\n"
        "tagger = r.resource_path('tagger')\n"
        "assert (tagger / 'tagger.safetensors').is_file(), tagger\n"
        "assert len(CueLexicon.load().verbs) > 50\n"
        "print(json.dumps(r.model_versions()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(archive), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == resources.model_versions()
