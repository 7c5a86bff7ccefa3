"""The HTML evaluation report: error examples in context, highlights, plots, and the page in a
headless Chromium (skipped where neither Chromium nor Playwright is installed)."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape

import pytest

from quotestance.evaluation.evaluate import main as evaluate_main
from quotestance.evaluation.html_report import render_html, render_marked
from quotestance.evaluation.metrics import in_context
from tests.test_metrics import DIRECT, INDIRECT, gold_doc, quote, run

pytest.importorskip("matplotlib")

STANCE = {
    "gold_quotes": {
        "n": 10,
        "labels": ["threat", "cooperation", "accusation", "none"],
        "macro_f1": 0.5,
        "macro_f1_ci": [0.3, 0.7],
        "per_label_f1": {"threat": 0.5, "cooperation": 0.4, "accusation": 0.6, "none": 0.5},
        "per_label_f1_ci": {"threat": [0.2, 0.8]},
        "support": {"threat": 2, "cooperation": 2, "accusation": 3, "none": 3},
        "confusion": {
            g: {p: int(g == p) * 2 for p in ("threat", "cooperation", "accusation", "none")}
            for g in ("threat", "cooperation", "accusation", "none")
        },
        "ece": 0.05,
        "reliability": [
            {"low": 0.4, "high": 0.5, "n": 4, "confidence": 0.45, "accuracy": 0.5},
            {"low": 0.8, "high": 0.9, "n": 6, "confidence": 0.85, "accuracy": 0.83},
        ],
    }
}
BENCHMARK = [
    {"setup": "rules", "workers": 1, "articles": n, "seconds": 1.0 + n / 100, "peak_rss_mb": 150,
     "articles_per_s": n / (1.0 + n / 100), "quotes_per_s": 3.0, "rc": 0, "quotes": 3 * n}
    for n in (1, 10, 100)
]  # fmt: skip


RAY = [
    {"mode": "rules", "engine": "local", "workers": 2, "articles": 70, "seconds": 2.0,
     "articles_per_s": 35.0, "quotes": 9},
    {"mode": "rules", "engine": "ray", "actors": 2, "articles": 70, "seconds": 9.0,
     "articles_per_s": 7.8, "quotes": 9, "overhead_per_article_s": 0.1,
     "same_quotes_as_local": True},
]  # fmt: skip


def _results() -> dict:
    gold = gold_doc(INDIRECT, DIRECT)
    # the direct quote found with the wrong speaker, the indirect one missed, one spurious
    result = run(gold, quote(gold, (8, 9, 10), "direct", speaker=(0,)), quote(gold, (0, 1)))
    result["description"] = "a hand-built document"
    result["timing"] = {"annotate_seconds": 0.1, "characters": len(gold.text)}
    return {"hybrid": {"corpora": {"toy": result}, "limit": None}}


def test_error_examples_carry_their_context_and_marks():
    result = _results()["hybrid"]["corpora"]["toy"]
    missed = result["detection_examples"]["missed"]
    assert [e["form"] for e in missed] == ["Indirect"]
    context = missed[0]["context"]
    marked = {m["role"]: context["text"][m["start"] : m["end"]] for m in context["marks"]}
    assert marked == {"quote": "sie komme morgen", "cue": "sagte", "speaker": "Merkel"}
    spurious = result["detection_examples"]["spurious"][0]["context"]
    assert any(context_text(spurious, m) == "Merkel sagte" for m in spurious["marks"])
    error = result["speaker_errors"][0]["examples"][0]["context"]
    roles = {m["role"]: context_text(error, m) for m in error["marks"]}
    assert roles["speaker"] == "Scholz" and roles["predicted"] == "Merkel"


def context_text(context: dict, mark: dict) -> str:
    return context["text"][mark["start"] : mark["end"]]


def test_context_is_cut_at_spaces_around_the_marks():
    gold = gold_doc(INDIRECT)
    context = in_context(gold, [("quote", INDIRECT.message)], pad=3)
    assert context["text"] == "sagte, sie komme morgen. „Wir"  # 3 characters, whole words
    assert in_context(gold, [("quote", set())]) == {"text": "", "marks": []}


def test_overlapping_marks_stay_well_nested_and_keep_the_text():
    text = "Er sagte: „Wir <helfen> gern“."
    marks = [
        {"role": "quote", "start": 10, "end": 29},
        {"role": "speaker", "start": 11, "end": 14},
        {"role": "cue", "start": 3, "end": 8},
    ]
    html = render_marked(text, marks)
    assert unescape(re.sub(r"<[^>]+>", "", html)) == text
    assert "&lt;helfen&gt;" in html  # the text is escaped
    assert '<span class="m-quote m-speaker"' in html  # the overlap carries both roles
    depth = 0
    for tag in re.findall(r"</?span", html):
        depth += -1 if tag.startswith("</") else 1
        assert depth in (0, 1)  # never a span inside a span: nothing to mis-nest
    assert depth == 0


def test_page_has_every_section_plot_and_anchor():
    previous = {
        "label": "0.0.1",
        "systems": {"hybrid": {"corpora": {"toy": {"quote": {"f1": 0.1}}}}},
    }
    extras = {"stance": STANCE, "benchmark": BENCHMARK, "ray": RAY}
    html = render_html(_results(), extras, previous)
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    alts = [alt for alt, _ in images]
    assert "quote F1 per evaluation set" in alts
    assert "stance reliability diagram" in alts and "stance confusion matrix" in alts
    assert "benchmark scaling" in alts and "speaker accuracy by form, toy" in alts
    assert all(data.startswith("iVBORw0KGgo") for _, data in images)  # PNG signature
    assert "was 0.100" in html  # the previous release beside this one
    assert "+100.0" in html  # the Ray overhead per article, in ms
    assert "Rehbein et al. 2023" in html and "Brunner et al. 2020" in html  # anchors cited
    assert 'class="m-speaker"' in html and "Missed gold quotes" in html
    assert "<script" not in html and "http" not in html.split("<main>")[1].split("anchors")[0]


def test_render_only_redraws_from_metrics_json(tmp_path, capsys):
    (tmp_path / "metrics.json").write_text(json.dumps({"systems": _results()}))
    (tmp_path / "stance.json").write_text(json.dumps(STANCE))
    assert evaluate_main(["--render-only", "--out", str(tmp_path), "--previous", "none"]) == 0
    page = (tmp_path / "evaluation.html").read_text(encoding="utf-8")
    assert "stance reliability diagram" in page
    assert (tmp_path / "evaluation.md").is_file()
    assert evaluate_main(["--render-only", "--out", str(tmp_path / "nothing")]) == 2
    assert "no " in capsys.readouterr().err


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="no Chromium (apt-get install chromium)")
def test_report_renders_in_headless_chromium(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "evaluation.html"
    page_file.write_text(
        render_html(_results(), {"stance": STANCE, "benchmark": BENCHMARK}), encoding="utf-8"
    )
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda err: problems.append(str(err)))
        page.goto(page_file.as_uri())
        loaded = page.evaluate(
            "Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])"
        )
        title = page.title()
        shot = page.screenshot(full_page=True)
        browser.close()
    assert title == "quotestance evaluation"
    assert len(loaded) >= 6 and all(ok for _, ok in loaded), loaded
    assert problems == []
    assert shot.startswith(b"\x89PNG") and len(shot) > 20_000
