"""Stance: inputs, metrics and calibration, the classifier on a tiny random encoder (train a
few steps, save, load, classify), the ``classify`` command, and targets."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from quotestance.document import STANCE_LABELS, Mention, Quote
from quotestance.evaluation.stance import calibration_error, fit_temperature, stance_report
from quotestance.stance.data import split_of
from quotestance.stance.inputs import stance_text
from tests.conftest import GERMAN_TEXT

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")

ROWS = [
    ("Wir werden die Gespräche abbrechen, wenn Russland weiter bombardiert.", "threat"),
    ("Wir sind bereit, mit der Regierung zusammenzuarbeiten.", "cooperation"),
    ("Die Regierung hat die Wähler getäuscht.", "accusation"),
    ("Bei dem Unfall wurden drei Menschen verletzt.", "none"),
]


def test_stance_text_has_every_part_and_keeps_the_quote():
    text = stance_text("Wir kommen.", "Er sagte: Wir kommen. Dann ging er.", "sagte", "Er")
    assert text.startswith("Sprecher: Er | Verb: sagte | Zitat: Wir kommen.")
    assert "Kontext: Er sagte" in text
    assert stance_text("Wir kommen.") == "Sprecher: - | Verb: - | Zitat: Wir kommen."


def test_marker_style_gives_the_context_once_with_the_quote_marked():
    text = stance_text("Wir kommen.", "Er sagte: Wir kommen. Dann ging er.", "sagte", "Er",
                       style="markers")  # fmt: skip
    assert text == "Sprecher: Er | Verb: sagte | Text: Er sagte: [Z] Wir kommen. [/Z] Dann ging er."
    assert text.count("Wir kommen.") == 1
    # a quote not found in its context comes first, marked, and the context follows
    text = stance_text("Wir gehen.", "Er sagte etwas.", style="markers")
    assert text.endswith("Text: Er sagte etwas. [Z] Wir gehen. [/Z]")
    long = stance_text("Die Mitte.", "x " * 600 + "Die Mitte." + " y" * 600, style="markers")
    assert "[Z] Die Mitte. [/Z]" in long and len(long) < 700


def test_long_context_is_cut_around_the_quote():
    context = "x " * 600 + "Die Mitte." + " y" * 600
    text = stance_text("Die Mitte.", context)
    assert "Die Mitte." in text.split("Kontext: ")[1]
    assert len(text) < 800


def test_splits_are_fixed():
    assert split_of({"split": "test", "document": "a"}) == "test"
    assert split_of({"split": "seed", "document": "a"}) == "seed"
    names = [split_of({"split": "train", "document": f"doc{i}"}) for i in range(400)]
    assert 20 < names.count("calibration") < 70  # about 10 %


def test_temperature_and_calibration_error():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 1.5, (2000, 4))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    gold = np.array([rng.choice(4, p=p) for p in probs])  # labels drawn from softmax(logits)
    overconfident = logits * 4  # so the right temperature is about 4
    t = fit_temperature(overconfident, gold)
    assert 3.0 < t < 5.5

    def softmax(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    assert calibration_error(softmax(overconfident / t), gold) < calibration_error(
        softmax(overconfident), gold
    )


def test_stance_report_figures():
    gold = ["threat", "none", "none", "accusation"]
    probs = np.array([[0.9, 0, 0, 0.1], [0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 1, 0]], float)
    report = stance_report(gold, probs, resamples=50)
    assert report["per_label_f1"]["threat"] == 1.0
    assert report["confusion"]["none"]["accusation"] == 1
    assert report["per_label_f1"]["cooperation"] == 0.0
    assert report["macro_f1_ci"][0] <= report["macro_f1"] <= report["macro_f1_ci"][1]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    from tests.conftest import make_tiny_tokenizer

    tokenizer = make_tiny_tokenizer([GERMAN_TEXT, *(t for t, _ in ROWS)] * 3, vocab_size=160)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256,
    )  # fmt: skip
    base = tmp_path_factory.mktemp("stance_base")
    transformers.BertModel(config, add_pooling_layer=False).save_pretrained(base)
    tokenizer.save_pretrained(base)
    return base


@pytest.fixture(scope="module")
def trained(tiny_base, tmp_path_factory):
    from training.train_stance import StanceTrainer, StanceTrainingArguments

    rows = []
    for k in range(6):
        for text, label in ROWS:
            rows.append({"quote": text, "context": text, "cue": "sagte", "speaker": "Er",
                         "label": label, "document": f"d{k}",
                         "stance_split": "calibration" if k == 5 else "train"})  # fmt: skip
    rows += [{**r, "stance_split": "test"} for r in rows[:4]]
    out = tmp_path_factory.mktemp("stance_model")
    # 60 steps (5 a epoch): first_loss is the mean of the first 20, last_loss of the last 50
    args = StanceTrainingArguments(
        output_dir=out, base_model=str(tiny_base), epochs=12, batch_size=4,
        lr_adapter=2e-2, lr_head=6e-2, bf16=False, lora_r=4,
    )  # fmt: skip
    trainer = StanceTrainer(args, rows)
    result = trainer.train()
    calibration = trainer.calibrate()
    trainer.save()
    return trainer, result, calibration, out


def test_training_lowers_the_loss_and_learns_the_toy_labels(trained):
    trainer, result, calibration, _ = trained
    assert result["last_loss"] < result["first_loss"] * 0.5
    report = trainer.evaluate("test")
    assert report["macro_f1"] == 1.0
    assert calibration["temperature"] > 0


def test_saved_model_loads_and_classifies_records_in_order(trained):
    from quotestance.stance.classifier import StanceClassifier

    trainer, _, _, out = trained
    clf = StanceClassifier.load(out, bf16=False)
    assert clf.config.temperature == pytest.approx(trainer.config.temperature)
    records = [{"text": t, "context": t, "cue": "sagte", "speaker": "Er"} for t, _ in ROWS]
    results = clf.classify_records(records)
    assert [label for label, _ in results] == [label for _, label in ROWS]
    for _, scores in results:
        assert set(scores) == set(STANCE_LABELS)
        assert sum(scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_min_score_turns_unsure_labels_into_none_and_keeps_the_scores(trained):
    from quotestance.stance.classifier import StanceClassifier

    _, _, _, out = trained
    records = [{"text": t, "context": t, "cue": "sagte", "speaker": "Er"} for t, _ in ROWS]
    plain = StanceClassifier.load(out, bf16=False).classify_records(records)
    strict = StanceClassifier.load(out, bf16=False, min_score=1.5).classify_records(records)
    assert [scores for _, scores in strict] == [scores for _, scores in plain]
    assert {label for label, _ in strict} == {"none"}
    top = max(plain[0][1].values())
    cut = StanceClassifier.load(out, bf16=False, min_score=top - 1e-3).classify_records(records)
    assert cut[0][0] == plain[0][0]


def test_full_finetuning_with_markers_saves_and_loads(tiny_base, tmp_path):
    from quotestance.stance.classifier import StanceClassifier
    from training.train_stance import StanceTrainer, StanceTrainingArguments

    rows = [{"quote": t, "context": "Er sagte: " + t, "cue": "sagte", "speaker": "Er",
             "label": label, "document": f"d{k}",
             "stance_split": "calibration" if k == 2 else "train"}
            for k in range(3) for t, label in ROWS]  # fmt: skip
    args = StanceTrainingArguments(
        output_dir=tmp_path, base_model=str(tiny_base), epochs=2, batch_size=4, bf16=False,
        full_finetune=True, input_style="markers", balance="sampler",
    )  # fmt: skip
    trainer = StanceTrainer(args, rows)
    assert "[Z]" in trainer.data["train"][0]["input_text"]
    trainer.train()
    trainer.save()
    clf = StanceClassifier.load(tmp_path, bf16=False)
    assert clf.config.full_finetune and clf.config.input_style == "markers"
    records = [{"text": t, "context": "Er sagte: " + t} for t, _ in ROWS]
    expected = trainer.classifier().classify_records(records)
    assert clf.classify_records(records) == expected


def test_a_full_finetune_extracted_at_full_rank_classifies_the_same(tiny_base, tmp_path):
    """``training/extract_lora.py``: at the layers' full rank the SVD factors are the delta
    itself, so the LoRA model's scores equal the full fine-tune's; a lower rank keeps less."""
    from quotestance.stance.classifier import StanceClassifier
    from training.extract_lora import extract, low_rank_factors
    from training.train_stance import StanceTrainer, StanceTrainingArguments

    rows = [{"quote": t, "context": "Er sagte: " + t, "cue": "sagte", "speaker": "Er",
             "label": label, "document": f"d{k}",
             "stance_split": "calibration" if k == 2 else "train"}
            for k in range(3) for t, label in ROWS]  # fmt: skip
    full = tmp_path / "full"
    args = StanceTrainingArguments(
        output_dir=full, base_model=str(tiny_base), epochs=2, batch_size=4, bf16=False,
        full_finetune=True, input_style="markers", lr_encoder=1e-2,
    )  # fmt: skip
    trainer = StanceTrainer(args, rows)
    trainer.train()
    trainer.save()
    kept = extract(full, rank=64, out_dir=tmp_path / "lora", dtype=torch.float32)
    assert kept and min(kept.values()) > 0.999  # hidden 32, intermediate 64: full rank
    records = [{"text": t, "context": "Er sagte: " + t} for t, _ in ROWS]
    want = StanceClassifier.load(full, bf16=False).classify_records(records)
    got = StanceClassifier.load(tmp_path / "lora", bf16=False).classify_records(records)
    assert [label for label, _ in got] == [label for label, _ in want]
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert all(abs(a[k] - b[k]) < 2e-3 for k in a)
    delta = torch.randn(12, 8)
    b, a, share = low_rank_factors(delta, 3)
    assert b.shape == (12, 3) and a.shape == (3, 8) and 0 < share < 1
    singular = torch.linalg.svdvals(delta)
    assert torch.allclose(torch.linalg.norm(delta - b @ a), singular[3:].norm(), atol=1e-4)


def test_a_run_stopped_inside_an_epoch_resumes_from_the_next_batch(tiny_base, tmp_path):
    from training.train_stance import StanceTrainer, StanceTrainingArguments

    rows = [{"quote": t, "context": t, "cue": "sagte", "speaker": "Er", "label": label,
             "document": f"d{k}", "stance_split": "calibration" if k == 3 else "train"}
            for k in range(4) for t, label in ROWS]  # fmt: skip
    args = StanceTrainingArguments(
        output_dir=tmp_path, base_model=str(tiny_base), epochs=2, batch_size=4, bf16=False,
        lora_r=4, minutes=1e-9,  # the budget is spent after the first step
    )  # fmt: skip
    first = StanceTrainer(args, rows).train()
    assert first["stopped_early"] and first["steps"] == 1
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert (state["epoch"], state["step"], state["batches_done"]) == (0, 1, 1)
    args.minutes, args.resume, args.checkpoint_every = None, True, 2
    resumed = StanceTrainer(args, rows)
    result = resumed.train()
    # every planned step is trained once: the first before the stop, the others after it
    assert result["steps"] == result["planned_steps"] and not result["stopped_early"]
    assert len(resumed.losses) == result["planned_steps"] - 1
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=False)["epoch"] == 2


def test_classify_command_keeps_order_and_reports_bad_lines(trained, monkeypatch, tmp_path, capsys):
    from quotestance import cli
    from quotestance.stance.classifier import StanceClassifier

    _, _, _, out = trained
    monkeypatch.setattr("quotestance.pipeline.stance_available", lambda: True)
    monkeypatch.setattr(StanceClassifier, "load", classmethod(lambda cls: cls(
        *__import__("quotestance.stance.model", fromlist=["load_stance"]).load_stance(out),
        bf16=False)))  # fmt: skip
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": t, "cue": "sagte", "speaker": "Er", "id": i})
             for i, (t, _) in enumerate(ROWS)]  # fmt: skip
    lines.insert(2, "{not json")
    lines.insert(3, json.dumps({"context": "no text"}))
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    buffer = io.StringIO()
    args = cli.build_parser().parse_args(["classify", str(source)])
    code = cli.classify(args, buffer)
    err = capsys.readouterr().err
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert code == 1
    assert "line 3" in err and "line 4" in err and "Traceback" not in err
    assert [r.get("id") for r in records] == [0, 1, None, None, 2, 3]
    assert "error" in records[2] and "error" in records[3]
    assert all(r["stance"] in STANCE_LABELS for r in records if "error" not in r)


def test_classify_without_a_model_exits_3(monkeypatch, capsys):
    from quotestance import cli

    monkeypatch.setattr("quotestance.pipeline.stance_available", lambda: False)
    code = cli.main(["classify", "-"])
    assert code == 3
    assert "no stance model" in capsys.readouterr().err


def test_target_is_the_other_side_named_in_the_quote():
    from quotestance.pipeline import Pipeline
    from quotestance.stance.target import TargetFinder

    text = (
        'Russland schickt Experten. "Wir wollen die Gespräche mit der amerikanischen Seite '
        'in Genf fortsetzen", erklärte General Viktor Posnichir.'
    )
    doc = Pipeline.default(detector="rules", stance=False).annotate(text)
    quote = next(q for q in doc.quotes if "Gespräche" in q.text)
    quote.stance = "cooperation"
    for finder in (TargetFinder(scorer=None), TargetFinder()):  # the rules, the learned scorer
        quote.target = None
        finder(doc)
        assert quote.target is not None and quote.target.text == "der amerikanischen Seite"
    none_quote = Quote(0, 8, "Russland", "direct", stance="none", speaker=Mention(0, 8, "x"))
    doc.quotes.append(none_quote)
    TargetFinder()(doc)
    assert none_quote.target is None


def test_target_scorer_picks_the_best_candidate_and_keeps_a_threshold():
    from quotestance.pipeline import Pipeline
    from quotestance.stance.target import TargetFinder, TargetScorer, is_actor_head

    text = "Die Regierung warf der Opposition Verrat vor, sagte der Sprecher."
    doc = Pipeline.default(detector="rules", stance=False).annotate(text)
    quote = Quote(0, 44, text[:44], "reported", stance="accusation")
    doc.quotes = [quote]
    prefer_after_article = TargetScorer({"article:der": 4.0}, -2.0, 0.5)
    TargetFinder(scorer=prefer_after_article)(doc)
    assert quote.target is not None and quote.target.text.startswith("der Opposition")
    unsure = TargetScorer({"article:der": 4.0}, -2.0, 0.99)
    TargetFinder(scorer=unsure)(doc)
    assert quote.target is None  # its best score (0.88) is under the threshold
    assert is_actor_head("bundesregierung", frozenset({"regierung"}))
    assert not is_actor_head("eindruck", frozenset({"regierung"}))


def test_encoders_of_one_base_share_their_word_embeddings():
    transformers = pytest.importorskip("transformers")
    import torch

    from quotestance.pipeline import share_embeddings

    config = transformers.BertConfig(
        vocab_size=300, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32,
    )  # fmt: skip
    torch.manual_seed(0)
    first = transformers.BertModel(config)
    second = transformers.BertModel(config)
    second.load_state_dict(first.state_dict())
    assert share_embeddings(first, second)
    assert second.get_input_embeddings() is first.get_input_embeddings()
    other = transformers.BertModel(config)  # another random base: rows differ, kept apart
    assert not share_embeddings(first, other)
    assert other.get_input_embeddings() is not first.get_input_embeddings()


def test_a_training_checkpoint_restores_model_optimizer_and_scheduler(tmp_path):
    torch = pytest.importorskip("torch")
    from quotestance.adapters import restore_training_state

    def parts(seed: int):
        torch.manual_seed(seed)
        model = torch.nn.Linear(3, 2)
        optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0 / (s + 1))
        return model, optimizer, scheduler

    model, optimizer, scheduler = parts(0)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    scheduler.step()
    path = tmp_path / "state.pt"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "step": 7}, path)  # fmt: skip
    fresh, fresh_opt, fresh_sched = parts(1)
    state = restore_training_state(path, fresh, fresh_opt, fresh_sched)
    assert state["step"] == 7
    assert torch.equal(fresh.weight, model.weight)
    assert fresh_sched.last_epoch == 1 and fresh_opt.param_groups[0]["lr"] == pytest.approx(0.05)


def test_a_quotes_scores_do_not_depend_on_the_other_quotes(trained):
    """bf16 padding to the batch's longest text changed scores (issue 12, row 6): each
    text is now padded by its own length, so the logits are the same bit for bit."""
    from quotestance.stance.classifier import StanceClassifier

    *_, out = trained
    clf = StanceClassifier.load(out, bf16=True, batch_size=4)
    texts = [t for t, _ in ROWS] + [" ".join(t for t, _ in ROWS) * 3, "Nein."]
    together = clf.logits(texts)
    for k, text in enumerate(texts):
        assert np.array_equal(clf.logits([text])[0], together[k]), text
        assert np.array_equal(clf.logits(texts[::-1])[len(texts) - 1 - k], together[k])
