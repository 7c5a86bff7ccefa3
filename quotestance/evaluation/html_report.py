"""The evaluation report as one self-contained HTML page: tables, matplotlib figures embedded
as data URIs, error examples with quote, cue and speaker highlighted in their context.

Input is what ``evaluate`` returns (``{system: run}``) plus, where present in the report
folder, the stance classifier's figures (``stance.json``), the speed benchmarks
(``benchmark-corpus.json``, ``benchmark-ray.json``) and a previous release's
``metrics.json``. No script, no external file: the page opens from disk or a mail attachment.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from quotestance import __version__
from quotestance.evaluation import plots
from quotestance.evaluation.report import (
    ANCHORS,
    FORMS,
    MAIN_HEADER,
    SPEAKER_FORMS,
    _corpora,
    _main_row,
    _scored,
)

# (label, key in a corpus result, field): the figures compared across systems and releases
HEADLINE = [
    ("quote F1", "quote", "f1"),
    ("message token F1", "message_token", "f1"),
    ("cue F1", "cue", "f1"),
    ("speaker accuracy", "speaker_accuracy", "accuracy"),
    ("joint F1", "joint", "f1"),
]
NUMERIC = re.compile(r"[\s\d.,\[\]()+\-–−=/×%n]*|[\s\d.,\[\]()+\-–=/×%n]*\(n=\d+\)|was .*")
EXTRA_FILES = {
    "stance": "stance.json",
    "benchmark": "benchmark-corpus.json",
    "ray": "benchmark-ray.json",
}
ROLE_NAMES = {
    "quote": "gold quote",
    "predicted": "predicted quote / speaker",
    "cue": "cue",
    "speaker": "gold speaker",
}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;
 line-height:1.45;background:#fafafa}
main{max-width:1180px;margin:0 auto;padding:1.5em 2em;background:#fff}
h1{margin-top:0}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.86em}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f1f3f6}td.num{text-align:right;white-space:nowrap}
.figures{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
figure{margin:0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.8em;color:#555;max-width:36em}
.note{color:#555;font-size:.9em}.up{color:#1a7f37}.down{color:#b42318}
.example{border-left:4px solid #ccd;padding:.3em .8em;margin:.6em 0;background:#fcfcfd;
 font-size:.9em}
.example .meta{color:#666;font-size:.85em}
.m-quote{background:#dbeafe}.m-predicted{outline:2px dashed #d97706;outline-offset:-1px}
.m-cue{text-decoration:underline 3px #7c3aed}.m-speaker{background:#bbf7d0;font-weight:600}
.legend span{display:inline-block;margin-right:1.2em;padding:0 .3em}
nav a{margin-right:1em}
"""


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _figure_value(result: Mapping[str, Any], key: str, field: str) -> float | None:
    block = result.get(key)
    return block.get(field) if isinstance(block, Mapping) else None


def _img(png: bytes, alt: str, caption: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{escape(alt)}" src="data:image/png;base64,{data}">{cap}</figure>'


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (cells already HTML)."""
    cell = (lambda v: v) if raw else escape

    def td(value: str) -> str:
        numeric = NUMERIC.fullmatch(re.sub(r"<[^>]+>", " ", value))
        return f'<td class="num">{cell(value)}</td>' if numeric else f"<td>{cell(value)}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(td(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_marked(text: str, marks: Sequence[Mapping[str, Any]]) -> str:
    """``text`` with each mark (role, start, end) highlighted. Marks may overlap (a speaker
    inside a quote): the text is cut at every mark boundary and each piece gets the classes
    of all marks covering it, so the markup stays well nested."""
    cuts = sorted({0, len(text), *(m["start"] for m in marks), *(m["end"] for m in marks)})
    out = []
    for a, b in itertools.pairwise(cuts):
        if a >= b:
            continue
        roles = sorted({m["role"] for m in marks if m["start"] <= a and b <= m["end"]})
        piece = escape(text[a:b])
        if roles:
            classes = " ".join(f"m-{r}" for r in roles)
            title = ", ".join(ROLE_NAMES.get(r, r) for r in roles)
            piece = f'<span class="{classes}" title="{escape(title)}">{piece}</span>'
        out.append(piece)
    return "".join(out)


def _legend() -> str:
    return (
        '<p class="legend">'
        + "".join(
            f'<span class="m-{role}">{escape(name)}</span>' for role, name in ROLE_NAMES.items()
        )
        + "</p>"
    )


def _example(context: Mapping[str, Any], meta: str) -> str:
    return (
        f'<div class="example"><div class="meta">{escape(meta)}</div>'
        f"<div>…{render_marked(context['text'], context['marks'])}…</div></div>"
    )


def _default_system(results: Mapping[str, Any]) -> str | None:
    """The system a reader cares about most: the shipped default where it was scored."""
    for name in ("hybrid", "tagger", "rules"):
        if name in results:
            return name
    return next(iter(results), None)


# ------------------------------------------------------------------ sections


def _summary(results: Mapping[str, Any], previous: Mapping[str, Any] | None) -> str:
    """Headline figures per corpus and system, beside the previous release's."""
    prev_systems = (previous or {}).get("systems", {})
    header = ["set", "system", *[label for label, _, _ in HEADLINE]]
    rows = []
    for corpus in _corpora(results):
        for system, r in _scored(results, corpus):
            prev = prev_systems.get(system, {}).get("corpora", {}).get(corpus)
            row = [escape(corpus), escape(system)]
            for _, key, field in HEADLINE:
                now = _figure_value(r, key, field)
                cell = f"<strong>{_num(now)}</strong>"
                interval = r.get(key, {}).get("f1_ci")
                if interval:
                    cell += f"<br><small>[{interval[0]:.3f}, {interval[1]:.3f}]</small>"
                if prev:
                    before = _figure_value(prev, key, field)
                    cell += f"<br><small>was {_num(before)} {_delta(now, before)}</small>"
                row.append(cell)
            rows.append(row)
    text = _table(header, rows, raw=True)
    if previous:
        text = (
            f'<p class="note">Each cell: this release, its 95% interval where computed, and '
            f"the previous release ({escape(previous.get('label', '?'))}) with the change.</p>"
            + text
        )
    return text


def _delta(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "–"
    d = now - before
    css = "up" if d > 0.0005 else "down" if d < -0.0005 else ""
    return f'<span class="{css}">{d:+.3f}</span>'


def _summary_plot(results: Mapping[str, Any], previous: Mapping[str, Any] | None) -> str:
    system = _default_system({k: v for k, v in results.items() if k != "regex"})
    if system is None:
        return ""
    corpora = [c for c in _corpora(results) if dict(_scored(results, c)).get(system)]
    if not corpora:
        return ""
    figures = []
    for label, key in (("quote F1", "quote"), ("joint F1", "joint")):
        series: dict[str, list[float | None]] = {}
        errors: dict[str, list[tuple[float, float] | None]] = {}
        for name in [system, "regex"]:
            runs = [dict(_scored(results, c)).get(name) for c in corpora]
            if any(runs):
                series[name] = [r[key]["f1"] if r else None for r in runs]
                errors[name] = [
                    tuple(r[key]["f1_ci"]) if r and r[key].get("f1_ci") else None for r in runs
                ]
        prev = (previous or {}).get("systems", {}).get(system, {}).get("corpora", {})
        if prev:
            series[f"{system}, previous release"] = [
                prev[c][key]["f1"] if c in prev and key in prev[c] else None for c in corpora
            ]
        png = plots.grouped_bars(f"{label} per set (95% CI)", corpora, series, errors, label)
        figures.append(_img(png, f"{label} per evaluation set", f"{label}, {system} vs regex."))
    return '<div class="figures">' + "".join(figures) + "</div>"


def _corpus_section(results: Mapping[str, Any], corpus: str) -> str:
    scored = list(_scored(results, corpus))
    if not scored:
        return ""
    anchor = corpus.replace(" ", "-")
    parts = [f'<h2 id="{escape(anchor)}">{escape(corpus)}</h2>']
    parts.append(f'<p class="note">{escape(scored[0][1]["description"])}</p>')
    parts.append(_table(MAIN_HEADER, [_main_row(system, r) for system, r in scored]))

    seen_forms = {f for _, r in scored for f in r["recall_by_form"]}
    forms = [f for f in FORMS if f in seen_forms] + sorted(seen_forms - set(FORMS))
    figures = []
    if forms:
        series = {
            system: [r["recall_by_form"].get(f, {}).get("recall") for f in forms]
            for system, r in scored
        }
        gold = next(r for _, r in scored)["recall_by_form"]
        notes = [f"n={gold[f]['gold']}" if f in gold else "" for f in forms]
        png = plots.grouped_bars(
            "recall per gold form", forms, series, ylabel="recall", notes=notes
        )
        figures.append(_img(png, f"recall per form, {corpus}", "Detection recall by gold form."))
    with_speakers = [
        (s, r) for s, r in scored if r.get("speaker_accuracy_by_form") and s != "regex"
    ]  # the regex floor predicts no speakers
    if with_speakers:
        seen = {f for _, r in with_speakers for f in r["speaker_accuracy_by_form"]}
        spk_forms = [f for f in SPEAKER_FORMS if f in seen] + sorted(seen - set(SPEAKER_FORMS))
        series = {
            s: [r["speaker_accuracy_by_form"].get(f, {}).get("accuracy") for f in spk_forms]
            for s, r in with_speakers
        }
        first = with_speakers[0][1]["speaker_accuracy_by_form"]
        notes = [f"n={first[f]['n']}" if f in first else "" for f in spk_forms]
        png = plots.grouped_bars(
            "speaker accuracy by gold speaker form",
            spk_forms,
            series,
            ylabel="accuracy",
            notes=notes,
        )
        figures.append(
            _img(
                png,
                f"speaker accuracy by form, {corpus}",
                "Speaker accuracy on found quotes by the form of the gold speaker.",
            )
        )
    for system, r in scored:
        e2e = r.get("stance_e2e")
        if e2e:
            png = plots.confusion(
                f"stance end to end ({system}), macro-F1 {e2e['macro_f1']:.3f}",
                e2e["labels"],
                e2e["confusion"],
            )
            figures.append(
                _img(
                    png,
                    f"stance confusion end to end, {system}",
                    f"{e2e['n']} found gold quotes with a stance label.",
                )
            )
    if figures:
        parts.append('<div class="figures">' + "".join(figures) + "</div>")

    kinds = sorted({kind for _, r in scored for kind in r["precision_by_kind"]})
    if kinds:
        rows = []
        for kind in kinds:
            cells = [kind]
            for _, r in scored:
                v = r["precision_by_kind"].get(kind)
                cells.append(
                    f"{_num(v['precision'])} ({v['correct']}/{v['predicted']})" if v else "–"
                )
            rows.append(cells)
        parts.append("<h3>Precision per predicted kind (correct/predicted)</h3>")
        parts.append(_table(["kind", *[system for system, _ in scored]], rows))
    rows = [
        [
            s,
            str(a["gold"]),
            str(a["predicted"]),
            _num(a["precision"]),
            _num(a["recall"]),
            _num(a["f1"]),
        ]
        for s, r in scored
        if (a := r.get("addressee")) and a.get("gold")
    ]
    if rows:
        parts.append("<h3>Addressee</h3>")
        parts.append(_table(["system", "gold", "predicted", "P", "R", "F1"], rows))
    parts.append(_error_examples(scored))
    return "".join(parts)


def _error_examples(scored: list[tuple[str, dict[str, Any]]]) -> str:
    """The default system's error examples: missed and spurious quotes, speaker errors."""
    system = _default_system({s: r for s, r in scored if s != "regex"})
    if system is None:
        return ""
    r = dict(scored)[system]
    parts = [f"<h3>Error examples ({escape(system)})</h3>", _legend()]
    detection = r.get("detection_examples", {})
    for kind, title in (("missed", "Missed gold quotes"), ("spurious", "Spurious predictions")):
        examples = [e for e in detection.get(kind, []) if e["context"]["text"]]
        if examples:
            parts.append(f"<h4>{title} (first document each, {len(examples)} shown)</h4>")
            parts += [_example(e["context"], f"{e['document']} · {e['form']}") for e in examples]
    errors = [e for e in r.get("speaker_errors", []) if e["examples"]][:6]
    if errors:
        parts.append("<h4>Commonest speaker errors</h4>")
        for e in errors:
            ex = e["examples"][0]
            meta = (
                f"{e['form']} · {e['error']} · {e['count']}× · {ex['document']} · predicted: "
                f"{ex.get('predicted_speaker') or '–'}"
            )
            if ex.get("context"):
                parts.append(_example(ex["context"], meta))
            else:  # metrics written before contexts were kept
                parts.append(
                    _table(
                        ["quote", "gold", "predicted"],
                        [[ex["quote"], ex["gold_speaker"], ex["predicted_speaker"]]],
                    )
                )
    return "".join(parts)


def _stance_section(stance: Mapping[str, Any]) -> str:
    gold = stance.get("gold_quotes")
    if not gold:
        return ""
    labels = gold["labels"]
    parts = ['<h2 id="stance">Stance classifier</h2>']
    parts.append(
        f'<p class="note">Gold quotes of the stance test set (SpkAtt-news dev, {gold["n"]} '
        "quotes), the <code>quotestance classify</code> path; from <code>stance.json</code> "
        "(<code>training/evaluate_stance.py</code>). No published German figure exists for "
        "these labels; the nearest anchors are event coders (CAMEO/PLOVER), not comparable.</p>"
    )
    ci = gold.get("per_label_f1_ci", {})
    rows = [
        [
            label,
            str(gold["support"][label]),
            _num(gold["per_label_f1"][label]),
            f"[{ci[label][0]:.3f}, {ci[label][1]:.3f}]" if label in ci else "–",
        ]
        for label in labels
    ]
    macro_ci = gold.get("macro_f1_ci")
    rows.append(
        [
            "macro",
            str(gold["n"]),
            _num(gold["macro_f1"]),
            f"[{macro_ci[0]:.3f}, {macro_ci[1]:.3f}]" if macro_ci else "–",
        ]
    )
    parts.append(_table(["label", "support", "F1", "95% CI"], rows))
    extra = [f"ECE {gold['ece']:.3f}" if "ece" in gold else ""]
    if "quotes_per_second" in gold:
        extra.append(f"{gold['quotes_per_second']} quotes/s")
    parts.append(f'<p class="note">{escape(" · ".join(e for e in extra if e))}</p>')
    figures = [
        _img(
            plots.confusion("stance on gold quotes", labels, gold["confusion"]),
            "stance confusion matrix",
            "Rows gold, columns predicted; colour = row share.",
        ),
        _img(
            plots.reliability("reliability, test", gold.get("reliability", []), gold.get("ece")),
            "stance reliability diagram",
            "Temperature-scaled scores; marker size = quotes.",
        ),
        _img(
            plots.grouped_bars(
                "stance F1 per label (95% CI)",
                labels,
                {"fine-tuned": [gold["per_label_f1"][x] for x in labels]},
                {"fine-tuned": [tuple(ci[x]) if x in ci else None for x in labels]},
                "F1",
            ),
            "stance F1 per label",
        ),
    ]
    parts.append('<div class="figures">' + "".join(figures) + "</div>")
    e2e = stance.get("end_to_end")
    if e2e and e2e.get("per_label_f1"):
        parts.append(
            f"<p>End to end (<code>annotate</code>, {e2e.get('n', 0)} found gold quotes): "
            f"macro-F1 {_num(e2e.get('macro_f1'))}.</p>"
        )
    return "".join(parts)


def _speed_section(benchmark: Sequence[Mapping[str, Any]] | None, ray: Any) -> str:
    if not benchmark and not ray:
        return ""
    parts = ['<h2 id="speed">Speed and memory</h2>']
    if benchmark:
        parts.append(
            '<p class="note">The real CLI on SpkAtt-news articles as files, loads included '
            "(<code>training/benchmark_corpus.py</code>, <code>benchmark-corpus.json</code>); "
            "peak memory is the largest resident set of any one process.</p>"
        )
        rows = [
            [
                b["setup"],
                str(b["workers"]),
                str(b["articles"]),
                f"{b['seconds']:.1f}",
                f"{b['articles_per_s']:.2f}",
                f"{b['quotes_per_s']:.1f}",
                str(b["peak_rss_mb"]),
            ]
            for b in benchmark
        ]
        parts.append(
            _table(
                ["set-up", "workers", "articles", "s", "articles/s", "quotes/s", "peak MB"], rows
            )
        )
        if len({b["articles"] for b in benchmark}) > 1:
            parts.append(
                _img(
                    plots.scaling("time against input size", benchmark),
                    "benchmark scaling",
                    "Log-log; slope 1 is linear growth.",
                )
            )
    if ray:
        rows = []
        for run in ray:
            parallel = run.get("actors", run.get("workers", "–"))
            kind = "actors" if "actors" in run else "workers"
            overhead = run.get("overhead_per_article_s")
            rows.append([
                run["mode"], run["engine"], f"{parallel} {kind}", str(run["articles"]),
                f"{run['seconds']:.1f}", f"{run['articles_per_s']:.2f}",
                f"{overhead * 1000:+.1f}" if overhead is not None else "–",
                {True: "yes", False: "NO"}.get(run.get("same_quotes_as_local"), "–"),
            ])  # fmt: skip
        parts.append(
            '<h3>Ray Data engine against <code>--workers 2</code></h3><p class="note">'
            "<code>training/benchmark_ray.py</code>, the SpkAtt-news articles repeated, one "
            "local Ray instance on this machine; overhead = extra seconds over the same "
            "articles than <code>--workers 2</code>, per article.</p>"
        )
        header = ["mode", "engine", "parallel", "articles", "s", "articles/s",
                  "overhead ms/article", "same quotes"]  # fmt: skip
        parts.append(_table(header, rows))
    return "".join(parts)


def _anchors_section() -> str:
    rows = [
        [a["system"], a["data"], a["figure"], _num(a["value"]), a["metric"], a["source"]]
        for a in ANCHORS
    ]
    return (
        '<h2 id="anchors">Published anchors</h2><p class="note">Other metrics and splits: '
        "they orient, they are not comparable to the figures above.</p>"
        + _table(["system", "data", "figure", "value", "metric", "source"], rows)
    )


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def render_html(
    results: Mapping[str, Any],
    extras: Mapping[str, Any] | None = None,
    previous: Mapping[str, Any] | None = None,
) -> str:
    """The whole report page."""
    extras = extras or {}
    corpora = [c for c in _corpora(results) if any(_scored(results, c))]
    nav = "".join(f'<a href="#{escape(c)}">{escape(c)}</a>' for c in corpora)
    nav += '<a href="#stance">stance</a>' if extras.get("stance") else ""
    nav += '<a href="#speed">speed</a>' if extras.get("benchmark") or extras.get("ray") else ""
    nav += '<a href="#anchors">anchors</a>'
    limit = next((run.get("limit") for run in results.values()), None)
    body = [
        "<h1>quotestance evaluation</h1>",
        f'<p class="note">quotestance {escape(__version__)} · commit {escape(_git_commit())} · '
        f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by <code>quotestance evaluate</code>. "
        "Metrics of <code>shared/spec/metrics.md</code>: a predicted span covers a token when "
        "at least half its characters lie inside; quotes match when either side covers at "
        "least half of the other's tokens. Rates on a 0-1 scale; intervals are 95% percentile "
        "bootstrap over documents (1000 resamples, seeded). <code>regex</code> is a plain „…“ "
        "matcher run on the same data as the floor.</p>",
        f"<nav>{nav}</nav>",
    ]
    if limit:
        body.append(f"<p><strong>Limited run: at most {limit} documents per set.</strong></p>")
    body += ["<h2>Summary</h2>", _summary(results, previous), _summary_plot(results, previous)]
    body += [_corpus_section(results, c) for c in corpora]
    if extras.get("stance"):
        body.append(_stance_section(extras["stance"]))
    body.append(_speed_section(extras.get("benchmark"), extras.get("ray")))
    body.append(_anchors_section())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>quotestance evaluation</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def load_extras(folder: Path) -> dict[str, Any]:
    """The stance and benchmark figures found in the report folder (missing ones left out)."""
    extras = {}
    for key, name in EXTRA_FILES.items():
        path = folder / name
        if path.is_file():
            extras[key] = json.loads(path.read_text(encoding="utf-8"))
    return extras


def load_previous(path: Path | None) -> dict[str, Any] | None:
    """A previous release's ``metrics.json`` (``systems`` plus an optional ``label``)."""
    if path is None or not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return {"label": data.get("label", str(path)), "systems": data.get("systems", {})}
