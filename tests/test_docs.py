"""Every ``python`` block of docs/python-api.md and docs/spacy.md runs, and prints what the
``text`` block after it shows.

The blocks of a page run in order in one namespace. A block whose first line is
``# needs the models`` loads the default pipeline: it runs only in the slow test.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
NEEDS_MODELS = "# needs the models"
FENCE = re.compile(r"^```(\w*)\s*$")


def code_blocks(page: Path) -> list[tuple[int, str, str | None]]:
    """(line, code, expected output or None) for each ``python`` block of ``page``."""
    blocks: list[tuple[int, str, str]] = []  # (line, language, body)
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        start, body = i + 1, []
        i += 1
        while not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        blocks.append((start, match.group(1), "\n".join(body)))
        i += 1
    out = []
    for k, (line, language, body) in enumerate(blocks):
        if language != "python":
            continue
        following = blocks[k + 1] if k + 1 < len(blocks) else None
        expected = None
        if following is not None and following[1] == "text":
            between = lines[line + body.count("\n") + 2 : following[0] - 1]
            if not any(text.strip() for text in between):  # the output right below it
                expected = following[2]
        out.append((line, body, expected))
    return out


def run_page(page: Path, with_models: bool) -> int:
    """Run the page's python blocks; returns how many ran."""
    namespace: dict = {"__name__": f"docs.{page.stem}"}
    ran = 0
    for line, code, expected in code_blocks(page):
        if code.startswith(NEEDS_MODELS) and not with_models:
            continue
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(code, f"{page}:{line}", "exec"), namespace)
        if expected is not None:
            got = [row.rstrip() for row in printed.getvalue().rstrip("\n").splitlines()]
            assert got == [row.rstrip() for row in expected.splitlines()], f"{page.name}:{line}"
        ran += 1
    return ran


def test_python_api_page():
    pytest.importorskip("pandas")
    assert run_page(DOCS / "python-api.md", with_models=False) >= 7


def test_spacy_page():
    pytest.importorskip("spacy")
    import quotestance.spacy_component  # noqa: F401 (a checkout has no entry point installed)

    assert run_page(DOCS / "spacy.md", with_models=False) >= 3


def test_every_block_is_run_or_needs_the_models():
    for page in ("python-api.md", "spacy.md"):
        blocks = code_blocks(DOCS / page)
        assert blocks, page
        assert all(compile(code, page, "exec") for _, code, _ in blocks)


@pytest.mark.slow
def test_pages_with_the_models():
    pytest.importorskip("pandas")
    from quotestance.pipeline import stance_available, tagger_available

    if not (tagger_available() and stance_available()):
        pytest.skip("needs the ml extra and the shipped weights")
    assert run_page(DOCS / "python-api.md", with_models=True) >= 8
    if importlib.util.find_spec("spacy") is not None:
        import quotestance.spacy_component  # noqa: F401

        assert run_page(DOCS / "spacy.md", with_models=True) >= 4


# ------------------------------------------------------- the reference pages stay true


def _subparsers(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_cli_reference_names_every_option():
    """docs/cli.md names every command and every option of every command (so that a new
    option without documentation fails here)."""
    from quotestance.cli import build_parser

    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    missing = [o for a in parser._actions for o in a.option_strings if f"`{o}" not in page]
    for name, sub in _subparsers(parser):
        if f"## `quotestance {name}" not in page:
            missing.append(f"section for {name}")
        for action in sub._actions:
            missing += [f"{name} {o}" for o in action.option_strings if f"`{o}" not in page]
    assert not missing, f"docs/cli.md lacks {missing}"


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_readme_and_docs_links_resolve_inside_the_repository():
    """Every relative link of README.md and docs/*.md points at a file of the repository, and
    none sends the reader to ``shared/`` (outside the repository)."""
    root = DOCS.parent
    pages = [root / "README.md", *sorted(DOCS.glob("*.md"))]
    broken = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "shared/spec" not in text, f"{page.name} points into shared/spec"
        for target in LINK.findall(text):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert not broken, broken
