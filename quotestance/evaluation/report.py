"""The evaluation report: ``evaluation.md`` for people, ``metrics.json`` for programs.

Input is ``{system name: evaluate(...) result}``. All rates are shown on a 0-1 scale with three
decimals, the published anchors included (converted from percentages), so columns compare.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GERMEVAL_2023 = (
    "Rehbein et al. 2023, Overview of the GermEval 2023 Shared Task on Speaker Attribution in "
    "Newswire and Parliamentary Debates (KONVENS 2023)"
)
BRUNNER_2020 = (
    "Brunner et al. 2020, To BERT or not to BERT: comparing contextual embeddings in a deep "
    "learning architecture for the automatic recognition of four types of speech, thought and "
    "writing representation (SwissText & KONVENS 2020)"
)

# Published figures, each under its own metric and split, to place ours beside; none of them
# is measured by our metric, so they orient rather than rank.
ANCHORS: list[dict[str, Any]] = [
    {
        "system": "QUiTE rule baseline",
        "data": "SpkAtt news dev (official split)",
        "figure": "Message F1",
        "value": 0.488,
        "metric": "GermEval 2023 official (token overlap)",
        "source": GERMEVAL_2023,
    },
    {
        "system": "QUiTE rule baseline",
        "data": "SpkAtt news dev (official split)",
        "figure": "Source F1",
        "value": 0.349,
        "metric": "GermEval 2023 official (token overlap)",
        "source": GERMEVAL_2023,
    },
    {
        "system": "Redewiedergabe tagger",
        "data": "Redewiedergabe (KONVENS 2020 split)",
        "figure": "direct token F1",
        "value": 0.85,
        "metric": "token F1, their split",
        "source": BRUNNER_2020,
    },
    {
        "system": "Redewiedergabe tagger",
        "data": "Redewiedergabe (KONVENS 2020 split)",
        "figure": "indirect token F1",
        "value": 0.76,
        "metric": "token F1, their split",
        "source": BRUNNER_2020,
    },
    {
        "system": "Redewiedergabe tagger",
        "data": "Redewiedergabe (KONVENS 2020 split)",
        "figure": "reported token F1",
        "value": 0.60,
        "metric": "token F1, their split",
        "source": BRUNNER_2020,
    },
    {
        "system": "Redewiedergabe tagger",
        "data": "Redewiedergabe (KONVENS 2020 split)",
        "figure": "free indirect token F1",
        "value": 0.59,
        "metric": "token F1, their split",
        "source": BRUNNER_2020,
    },
    {
        "system": "GBERT-large",
        "data": "SpkAtt parliament (GePaDe) test",
        "figure": "cue F1",
        "value": 0.893,
        "metric": "GermEval 2023 official",
        "source": GERMEVAL_2023,
    },
    {
        "system": "GBERT-large",
        "data": "SpkAtt parliament (GePaDe) test",
        "figure": "roles F1",
        "value": 0.821,
        "metric": "GermEval 2023 official",
        "source": GERMEVAL_2023,
    },
    {
        "system": "GBERT-large",
        "data": "SpkAtt parliament (GePaDe) test",
        "figure": "roles F1 given gold cues",
        "value": 0.907,
        "metric": "GermEval 2023 official",
        "source": GERMEVAL_2023,
    },
]

FORMS = ("Direct", "Indirect", "Reported", "FreeIndirect", "IndirectFreeIndirect")


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _ci(figure: Mapping[str, Any]) -> str:
    interval = figure.get("f1_ci")
    f1 = _num(figure["f1"])
    return f"{f1} [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else f1


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _scored(results: Mapping[str, Any], corpus: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(system, result) for every system that scored ``corpus`` (skipped ones left out)."""
    for system, run in results.items():
        result = run["corpora"].get(corpus)
        if result and "skipped" not in result:
            yield system, result


def _corpora(results: Mapping[str, Any]) -> list[str]:
    names: dict[str, None] = {}
    for run in results.values():
        names.update(dict.fromkeys(run["corpora"]))
    return list(names)


def _main_row(system: str, r: Mapping[str, Any]) -> list[str]:
    q, t, c, j = r["quote"], r["message_token"], r["cue"], r["joint"]
    spk = r["speaker_accuracy"]
    return [
        system,
        str(r["documents"]),
        str(r["gold_quotes"]),
        str(r["predicted_quotes"]),
        _num(q["precision"]),
        _num(q["recall"]),
        _ci(q),
        _num(t["precision"]),
        _num(t["recall"]),
        _ci(t),
        _num(c["precision"]),
        _num(c["recall"]),
        _num(c["f1"]),
        f"{_num(spk['accuracy'])} (n={spk['n']})",
        _num(j["f1"]),
        f"{r['timing']['annotate_seconds']:.1f}",
    ]


MAIN_HEADER = [
    "system",
    "docs",
    "gold",
    "pred",
    "quote P",
    "quote R",
    "quote F1 [95% CI]",
    "msg tok P",
    "msg tok R",
    "msg tok F1 [95% CI]",
    "cue P",
    "cue R",
    "cue F1",
    "speaker acc",
    "joint F1",
    "annotate s",
]


def _corpus_section(results: Mapping[str, Any], corpus: str) -> list[str]:
    scored = list(_scored(results, corpus))
    lines = [f"## {corpus}", ""]
    skipped = [s for s, run in results.items() if "skipped" in run["corpora"].get(corpus, {})]
    for system in skipped:
        lines += [f"*{system}: skipped — {results[system]['corpora'][corpus]['skipped']}*", ""]
    if not scored:
        return lines
    lines += [scored[0][1]["description"], ""]
    lines += _table(MAIN_HEADER, [_main_row(system, r) for system, r in scored])

    lines += ["Recall per gold Form (found):", ""]
    lines += _recall_table(scored, "recall_by_form", "Form", FORMS)
    if len({m for _, r in scored for m in r["recall_by_medium"]}) > 1:
        lines += ["Recall per gold medium (speech / thought / writing; found):", ""]
        lines += _recall_table(scored, "recall_by_medium", "medium", ())

    rows = [
        [system, kind, str(v["predicted"]), str(v["correct"]), _num(v["precision"])]
        for system, r in scored
        for kind, v in r["precision_by_kind"].items()
    ]
    if rows:
        lines += ["Precision per predicted kind:", ""]
        lines += _table(["system", "kind", "predicted", "correct", "precision"], rows)

    lines += _speaker_section(scored)
    for system, r in scored:
        if "stance_e2e" in r:
            lines += _stance_section(system, r["stance_e2e"])
    return lines


SPEAKER_FORMS = ("name", "title/description", "pronoun", "organisation", "continuation")


def _speaker_section(scored: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Speaker accuracy by the gold speaker's form, addressee F1, and the commonest speaker
    errors with examples."""
    scored = [(s, r) for s, r in scored if r.get("speaker_accuracy_by_form")]
    if not scored:
        return []
    lines = ["Speaker accuracy by the form of the gold speaker (found quotes with a speaker):", ""]
    seen = {form for _, r in scored for form in r["speaker_accuracy_by_form"]}
    forms = [f for f in SPEAKER_FORMS if f in seen] + sorted(seen - set(SPEAKER_FORMS))
    rows = []
    for form in forms:
        cells = []
        for _, r in scored:
            v = r["speaker_accuracy_by_form"].get(form)
            cells.append(f"{_num(v['accuracy'])} ({v['correct']}/{v['n']})" if v else "–")
        rows.append([form, *cells])
    lines += _table(["gold speaker form", *[system for system, _ in scored]], rows)
    rows = [
        [system, str(a["gold"]), str(a["predicted"]), _num(a["precision"]), _num(a["recall"]),
         _num(a["f1"])]
        for system, r in scored
        if (a := r.get("addressee"))
    ]  # fmt: skip
    if rows:
        lines += ["Addressee (a predicted addressee shares a token with the gold `Addr`):", ""]
        lines += _table(["system", "gold", "predicted", "P", "R", "F1"], rows)
    preferred = [s for s in ("hybrid", "tagger", "rules") if s in dict(scored)]
    system = preferred[0] if preferred else scored[0][0]
    r = dict(scored)[system]
    errors = r.get("speaker_errors", [])[:8]
    if errors:
        lines += [f"Commonest speaker errors ({system}), with examples:", ""]
        rows = []
        for e in errors:
            example = e["examples"][0] if e["examples"] else {}
            rows.append(
                [
                    e["form"],
                    e["error"],
                    str(e["count"]),
                    example.get("gold_speaker", "").replace("|", "/"),
                    example.get("predicted_speaker", "").replace("|", "/") or "–",
                    example.get("quote", "")[:80].replace("|", "/"),
                ]
            )
        lines += _table(["gold form", "error", "count", "gold speaker", "predicted", "quote"], rows)
    return lines


def _recall_table(
    scored: list[tuple[str, dict[str, Any]]], key: str, title: str, order: tuple[str, ...]
) -> list[str]:
    """One row per gold category (``order`` first, then the rest by name), one column a system."""
    seen = {cat for _, r in scored for cat in r[key]}
    categories = [c for c in order if c in seen] + sorted(seen - set(order))
    rows = []
    for cat in categories:
        gold = next(r[key][cat]["gold"] for _, r in scored if cat in r[key])
        cells = [
            f"{_num(r[key][cat]['recall'])} ({r[key][cat]['found']})" if cat in r[key] else "–"
            for _, r in scored
        ]
        rows.append([cat, str(gold), *cells])
    return _table([title, "gold", *[system for system, _ in scored]], rows)


def _stance_section(system: str, stance: Mapping[str, Any]) -> list[str]:
    labels = stance["labels"]
    lines = [
        f"Stance end to end ({system}, {stance['n']} found gold quotes with a stance label): "
        f"macro-F1 {_num(stance['macro_f1'])}",
        "",
    ]
    lines += _table(
        ["gold \\ pred", *labels, "F1"],
        [
            [g, *[str(stance["confusion"][g][p]) for p in labels], _num(stance["per_label_f1"][g])]
            for g in labels
        ],
    )
    return lines


def render_markdown(results: Mapping[str, Any]) -> str:
    """The whole report as Markdown."""
    lines = [
        "# quotestance evaluation",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `training/evaluate.py`. Metrics as "
        "defined in `shared/spec/metrics.md` (a predicted span covers a token when at least "
        "half its characters lie inside; quotes match when either side covers at least half of "
        "the other's tokens). Rates on a 0-1 scale; confidence intervals are 95% percentile "
        "bootstrap over documents (1000 resamples, seeded). `regex` is a plain „…“ matcher "
        "run on the same data as the floor.",
        "",
    ]
    limit = next((run.get("limit") for run in results.values()), None)
    if limit:
        lines += [f"**Limited run: at most {limit} documents per set.**", ""]
    for corpus in _corpora(results):
        lines += _corpus_section(results, corpus)
    lines += [
        "## Published anchors",
        "",
        "Other metrics and splits: these orient, they are not comparable to the figures above.",
        "",
    ]
    lines += _table(
        ["system", "data", "figure", "value", "metric", "source"],
        [
            [a["system"], a["data"], a["figure"], _num(a["value"]), a["metric"], a["source"]]
            for a in ANCHORS
        ],
    )
    return "\n".join(lines)


def summary_lines(results: Mapping[str, Any]) -> list[str]:
    """A short plain-text summary for the terminal, anchors last."""
    out = []
    for corpus in _corpora(results):
        for system, r in _scored(results, corpus):
            q, t = r["quote"], r["message_token"]
            out.append(
                f"{corpus:18} {system:6} docs={r['documents']:4} gold={r['gold_quotes']:5} "
                f"pred={r['predicted_quotes']:5} quote P/R/F1={q['precision']:.3f}/"
                f"{q['recall']:.3f}/{q['f1']:.3f} msg-tok F1={t['f1']:.3f} "
                f"cue F1={r['cue']['f1']:.3f} spk acc={r['speaker_accuracy']['accuracy']:.3f} "
                f"joint F1={r['joint']['f1']:.3f}"
            )
        for system, run in results.items():
            skipped = run["corpora"].get(corpus, {}).get("skipped")
            if skipped:
                out.append(f"{corpus:18} {system:6} skipped: {skipped}")
    out.append("published anchors (other metrics/splits):")
    out += [f"  {a['system']}, {a['data']}: {a['figure']} {a['value']:.3f}" for a in ANCHORS]
    return out


def write_report(results: Mapping[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``evaluation.md`` and ``metrics.json`` (with the anchors) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    markdown = out / "evaluation.md"
    markdown.write_text(render_markdown(results), encoding="utf-8")
    metrics = out / "metrics.json"
    payload = {"systems": dict(results), "anchors": ANCHORS}
    metrics.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return markdown, metrics
