"""The files quotestance needs at run time, shipped inside the package (and its wheel).

::

    quotestance/resources/
      cues/          cues.tsv, speech_acts.tsv: the cue lexicon (training/build_cue_lexicon.py)
      actors/        builtin.yaml: the built-in actor registry
      speakers/      linker.json: the speaker linker (training/train_speaker.py)
      tagger/        tagger.json + tagger.safetensors: the quote tagger (training/train_tagger.py)
      stance_model/  stance.json + stance.safetensors: the stance model (training/train_stance.py);
                     targets.json: its target scorer (training/train_targets.py)

Every module finds these files through :func:`resource_path`, never by a path of its own. The
files are read with :mod:`importlib.resources`; libraries that want a real file (safetensors,
``open``) get one: the package's own folder in an ordinary install, else (a package imported
from a zip file) a copy extracted once per process and removed at exit.

:func:`model_versions` names the shipped models by short sha256 digests (``quotestance
--version``); it is meant for reuse wherever a record should say which models made it.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.resources
import shutil
import tempfile
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE = "quotestance"
FOLDER = "resources"

# component -> (folder, the run-time files whose bytes decide its output); cards and READMEs
# are documentation and left out of the version
COMPONENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tagger": ("tagger", ("tagger.json", "tagger.safetensors")),
    "stance": ("stance_model", ("stance.json", "stance.safetensors", "targets.json")),
    "speakers": ("speakers", ("linker.json",)),
    "cues": ("cues", ("cues.tsv", "speech_acts.tsv")),
    "actors": ("actors", ("builtin.yaml", "people.tsv.gz")),
}
SHORT = 12  # hex digits of a model version
MISSING = "missing"


def resources() -> Traversable:
    """The resource folder as :mod:`importlib.resources` sees it (possibly inside a zip)."""
    return importlib.resources.files(PACKAGE) / FOLDER


@functools.cache
def resource_path(*parts: str) -> Path:
    """A real path to the shipped file or folder ``parts`` (e.g. ``"tagger"``,
    ``"cues", "cues.tsv"``). It need not exist: callers check, as for any path."""
    item = resources().joinpath(*parts)
    if isinstance(item, Path):
        return item
    return _extract(item, Path(_scratch()).joinpath(*parts))


@functools.cache
def _scratch() -> str:
    folder = tempfile.mkdtemp(prefix="quotestance-resources-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _extract(item: Traversable, target: Path) -> Path:
    """Copy a resource that is not a file on disk (zip import) to ``target``; a folder whole."""
    if item.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for child in item.iterdir():
            _extract(child, target / child.name)
    elif item.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.read_bytes())
    return target


def component_digest(component: str) -> str | None:
    """The full sha256 (hex) of a shipped component, or None where a file of it is missing.

    It is the sha256 of the ``sha256sum`` listing of the component's files (in the order of
    ``COMPONENTS``), so ``cd quotestance/resources/tagger && sha256sum tagger.json
    tagger.safetensors | sha256sum`` gives the same digest."""
    folder, names = COMPONENTS[component]
    listing = []
    for name in names:
        item = resources() / folder / name
        if not item.is_file():
            return None
        digest = hashlib.sha256()
        with item.open("rb") as handle:
            for block in iter(functools.partial(handle.read, 1 << 20), b""):
                digest.update(block)
        listing.append(f"{digest.hexdigest()}  {name}\n")
    return hashlib.sha256("".join(listing).encode("utf-8")).hexdigest()


@functools.cache
def model_versions() -> dict[str, str]:
    """``{"tagger": "1a2b3c4d5e6f", "stance": …, "speakers": …, "cues": …, "actors": …}``:
    each shipped component by the first 12 hex digits of :func:`component_digest`
    (``"missing"`` where its files are not installed). Hashed once per process (≈ 8 MB)."""
    versions = {}
    for component in COMPONENTS:
        digest = component_digest(component)
        versions[component] = digest[:SHORT] if digest else MISSING
    return versions


def version_string() -> str:
    """``quotestance 0.1.0 (tagger 1a2b3c4d5e6f, stance …, speakers …, cues …, actors …)``."""
    from quotestance import __version__

    models = ", ".join(f"{name} {version}" for name, version in model_versions().items())
    return f"quotestance {__version__} ({models})"
