"""The tagger end to end on a tiny random encoder: train a few steps, save, load, tag."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")

from quotestance.corpora.base import AnnotatedDocument, GoldQuote  # noqa: E402
from quotestance.detect.labels import ROLES  # noqa: E402
from quotestance.detect.tagger import QuoteTagger, load_tagger, spans_to_quotes  # noqa: E402
from quotestance.detect.windows import (  # noqa: E402
    collate,
    document_words,
    gold_word_tags,
    make_windows,
)
from quotestance.document import Document  # noqa: E402
from quotestance.text import segment  # noqa: E402
from tests.conftest import GERMAN_TEXT  # noqa: E402
from training.train_tagger import TaggerTrainer, TaggerTrainingArguments  # noqa: E402

QUOTE = "„Wir werden die Steuern nicht erhöhen.“"
SPEAKER = "Der Minister"
CUE = "sagte"


def annotated() -> AnnotatedDocument:
    """GERMAN_TEXT with one gold direct quote, its cue and its source."""
    doc = Document(GERMAN_TEXT)
    words = document_words(doc)
    spans = {f"0:{i}": span for i, span in enumerate(words)}

    def ids(text: str) -> set[str]:
        start = GERMAN_TEXT.index(text)
        return {k for k, (s, _) in spans.items() if start <= s < start + len(text)}

    gold = GoldQuote(message=ids(QUOTE), form="Direct", cue=ids(CUE), source=ids(SPEAKER))
    return AnnotatedDocument("tiny", GERMAN_TEXT, spans, [gold], corpus="test")


@pytest.fixture(scope="module")
def trained(tokenizer, tmp_path_factory):
    """A 2-layer random BERT with LoRA, trained to overfit one article."""
    torch.manual_seed(0)
    base = tmp_path_factory.mktemp("base")
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    encoder = transformers.BertModel(config, add_pooling_layer=False)
    encoder.save_pretrained(base)
    tokenizer.save_pretrained(base)

    ann = annotated()
    words = document_words(ann.to_document())
    tags = gold_word_tags(ann, words)
    windows = make_windows([GERMAN_TEXT[s:e] for s, e in words], tags, tokenizer, 0)
    out = tmp_path_factory.mktemp("tagger")
    args = TaggerTrainingArguments(
        output_dir=out,
        base_model=str(base),
        epochs=50,
        batch_size=4,
        lr_adapter=2e-2,
        lr_head=4e-2,
        warmup_fraction=0.0,
        lora_r=4,
        minutes=2,
        bf16=False,
        checkpoint_every=10_000,
    )
    trainer = TaggerTrainer(args, encoder=encoder, tokenizer=tokenizer,
                            windows={"spkatt-news": windows})  # fmt: skip
    result = trainer.train()
    return trainer, result, out, windows


def test_training_runs_and_lowers_the_loss(trained):
    trainer, result, out, _ = trained
    assert result["steps"] == 50
    history = trainer.config.training["loss_history"]
    assert history[-1]["loss"] < history[0]["loss"] / 2
    assert (out / "tagger.safetensors").stat().st_size < 1_000_000  # adapter + heads only


def test_saved_and_merged_model_gives_the_same_logits(trained):
    trainer, _, out, windows = trained
    model, _, config = load_tagger(out)
    batch = collate(windows, trainer.tokenizer.pad_token_id)
    trainer.model.eval()
    with torch.inference_mode():
        before = trainer.model(batch["input_ids"], batch["attention_mask"])["logits"]
        after = model(batch["input_ids"], batch["attention_mask"])["logits"]
    for role in ROLES:
        torch.testing.assert_close(before[role], after[role], atol=1e-4, rtol=1e-4)
    assert config.base_model == trainer.args.base_model


def test_tagger_stage_finds_the_learnt_quote(trained):
    _, _, out, _ = trained
    tagger = QuoteTagger.load(out, bf16=False)
    doc = Document(GERMAN_TEXT)
    doc.sentences = segment(GERMAN_TEXT)
    quotes = tagger.detect(doc)
    texts = [q.text for q in quotes]
    assert QUOTE in texts
    # the encoder's state per word stays on the document for the speaker scorer
    assert doc.encoding.vectors.shape == (
        len(doc.encoding.starts),
        tagger.model.norm.weight.shape[0],
    )
    assert np.abs(doc.encoding.pool(0, len(GERMAN_TEXT))).sum() > 0
    # what the benchmark reads: subwords fed to the encoder, with and without padding
    assert 0 < tagger.encoded_subwords <= tagger.padded_subwords
    quote = quotes[texts.index(QUOTE)]
    assert quote.kind == "direct"
    assert quote.cue is not None and quote.cue.text == CUE
    assert quote.speaker is not None and quote.speaker.text == SPEAKER


def test_spans_to_quotes_links_nearest_cue_and_source():
    text = "Der Minister sagte: „Wir kommen.“ Später ging er. Sie sagte nichts."
    doc = Document(text)
    doc.sentences = segment(text)

    def at(s: str, start: int = 0, form: str = "") -> tuple[int, int, str]:
        i = text.index(s, start)
        return (i, i + len(s), form)

    role_spans = {
        "message": [at("„Wir kommen.“", form="Direct")],
        "cue": [at("sagte"), at("sagte", text.index("Sie"))],  # the second is two sentences on
        "source": [at("Der Minister")],
    }
    (quote,) = spans_to_quotes(doc, role_spans)
    assert quote.kind == "direct"
    assert quote.cue.text == "sagte" and quote.speaker.text == "Der Minister"


def test_missing_weights_are_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no tagger weights"):
        load_tagger(tmp_path)


def test_smooth_messages_joins_flicker_and_drops_fragments():
    from quotestance.detect.tagger import smooth_messages

    text = "Er sagte, die Lage sei ernst und man prüfe alles. Dann Irakkrieg. „Gut“ sei das."
    a = text.index("die Lage")
    b = text.index("und man")  # one word ("und") between the two halves
    c = text.index("Irakkrieg")
    d = text.index("„Gut“")
    spans = [
        (a, a + len("die Lage sei ernst"), "Indirect"),
        (b + 4, text.index("."), "Indirect"),
        (c, c + len("Irakkrieg"), "Indirect"),
        (d, d + len("„Gut“"), "Direct"),
    ]
    assert [m[:3] for m in smooth_messages(text, spans)] == [
        (a, text.index("."), "Indirect"),
        (d, d + len("„Gut“"), "Direct"),
    ]


@pytest.mark.parametrize(
    ("text", "left", "right", "attribution"),
    [
        (
            "Ein Tatverdacht bestehe nach Angaben der Bundesanwaltschaft nicht mehr.",
            "Ein Tatverdacht bestehe", "nicht mehr", "der Bundesanwaltschaft",
        ),
        (
            "Es handele sich ersten Angaben zufolge um vier Terroristen.",
            "Es handele sich", "um vier Terroristen", "ersten Angaben",
        ),
        (
            "Die Truppe sollte laut Franz-Josef Jung 1.500 Mann umfassen.",
            "Die Truppe sollte", "1.500 Mann umfassen", "Franz-Josef Jung",
        ),
        (
            "Die Lage sei, so der Minister, weiter ernst.",
            "Die Lage sei", "weiter ernst", "der Minister",
        ),
    ],
)  # fmt: skip
def test_a_claim_cut_by_its_attribution_is_one_quote_with_that_source(
    text: str, left: str, right: str, attribution: str
):
    """Issue 16: one claim split in two around *laut X* / *X zufolge* / *nach Angaben*; the
    source inside the attribution is the quote's speaker."""
    doc = Document(text)
    doc.sentences = segment(text)
    a, b = text.index(left), text.index(right)
    s = text.index(attribution)
    role_spans = {
        "message": [(a, a + len(left), "Indirect"), (b, b + len(right), "Indirect")],
        "source": [(s, s + len(attribution), "")],
    }
    (quote,) = spans_to_quotes(doc, role_spans)
    assert (quote.start, quote.end) == (a, b + len(right))
    assert quote.speaker is not None and quote.speaker.text == attribution


def test_two_claims_are_not_joined_across_a_sentence_or_a_plain_gap():
    from quotestance.detect.tagger import smooth_messages

    text = "Er sagte, die Lage sei ernst, und laut Plan komme Hilfe. Laut Polizei sei alles ruhig."
    first = (text.index("die Lage"), text.index(", und"), "Indirect")
    second = (text.index("komme Hilfe"), text.index("."), "Indirect")
    third = (text.index("sei alles"), len(text) - 1, "Indirect")
    spans = smooth_messages(text, [first, second, third])
    assert [m[:3] for m in spans] == [first, second, third]


def test_a_documents_tags_do_not_depend_on_its_batch(trained):
    """bf16 padding to the batch's longest window changed logits (issue 12, row 6): each
    window is now padded by its own length, so the logits are the same bit for bit."""
    _, _, out, _ = trained
    tagger = QuoteTagger.load(out, bf16=True, batch_size=4)
    texts = [GERMAN_TEXT, "Er sagte: „Ja.“", GERMAN_TEXT[:150], GERMAN_TEXT * 3]
    docs = []
    for text in texts:
        doc = Document(text)
        doc.sentences = segment(text)
        docs.append(doc)
    together = tagger.word_tags_many(docs)
    for doc, (words, tags) in zip(docs, together, strict=True):
        alone_words, alone = tagger.word_tags_many([doc])[0]
        assert words == alone_words
        for key in tags:
            assert np.array_equal(tags[key], alone[key]), key


def test_short_fragments_are_dropped_or_carried_to_their_sentence_end():
    """Issue 16: the tagger's short fragments: without a verb (*die Nationalgarde*) they
    are no quote; broken off mid-phrase (*die Arbeit der*) they run to the sentence's end;
    short clauses with a verb and a speech act's object (``Reported``) stay as they are."""
    from quotestance.detect.tagger import repair_fragment
    from quotestance.morphology import MoodAnalyser
    from quotestance.text import TextSegmenter

    text = (
        "Er kritisierte die Arbeit der Behörde. Sie rief die Nationalgarde. "
        "Er sagte, er sei unschuldig. Sie forderte die Vernichtung der Lagerbestände."
    )
    doc = MoodAnalyser()(TextSegmenter()(Document(text)))

    def span(s: str) -> tuple[int, int]:
        i = text.index(s)
        return i, i + len(s)

    first_end = text.index("Sie rief")
    first_end = len(text[:first_end].rstrip())
    assert repair_fragment(doc, *span("die Arbeit der")) == first_end
    assert repair_fragment(doc, *span("Er kritisierte die Arbeit der")) == first_end
    assert repair_fragment(doc, *span("die Nationalgarde")) is None
    assert repair_fragment(doc, *span("er sei unschuldig")) == span("er sei unschuldig")[1]
    reported = span("die Vernichtung der Lagerbestände")
    assert repair_fragment(doc, *reported, form="Reported") == reported[1]
    assert repair_fragment(doc, *reported, form="Indirect") is None
    bare = Document(text)
    bare.sentences = segment(text)  # no morphology: nothing to judge by
    assert repair_fragment(bare, *span("die Nationalgarde")) == span("die Nationalgarde")[1]


def test_a_carried_fragment_absorbs_the_message_it_runs_into():
    """A fragment carried to its sentence's end and the message after it in that sentence
    are one claim: one quote, no overlap (20 overlapping pairs on news + GePaDe dev before)."""
    from quotestance.detect.tagger import MessageSpan, repair_messages
    from quotestance.morphology import MoodAnalyser
    from quotestance.text import TextSegmenter

    text = (
        "Seit Ende der Waffenruhe sollen in der Stadt mehr als 200 Menschen getötet worden "
        "sein. Er sagte, er sei unschuldig."
    )
    doc = MoodAnalyser()(TextSegmenter()(Document(text)))

    def message(s: str, form: str) -> MessageSpan:
        i = text.index(s)
        return MessageSpan(i, i + len(s), form)

    fragment = message("der Waffenruhe sollen in der", "Reported")
    rest = message("mehr als 200 Menschen getötet worden sein", "Indirect")
    claim = message("er sei unschuldig", "Indirect")
    starts = [sent.start for sent in doc.sentences]
    first_end = text.index(" Er sagte")
    assert repair_messages(doc, [fragment, rest, claim], starts) == [
        MessageSpan(fragment.start, first_end, "Indirect"),
        claim,
    ]


def test_a_run_stopped_by_its_time_budget_resumes_where_it_stopped(trained, tmp_path):
    """The stop saves its own checkpoint: ``--resume`` goes on from that step, not from the
    last periodic checkpoint (a tagger run stopped at 909 of 1,138 steps would have gone
    back to step 800)."""
    trainer, _, _, windows = trained

    def fresh(minutes: float, resume: bool) -> TaggerTrainer:
        torch.manual_seed(0)
        encoder = transformers.BertModel(
            transformers.BertConfig(
                vocab_size=trainer.tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                num_attention_heads=2, intermediate_size=64, max_position_embeddings=512,
            ),
            add_pooling_layer=False,
        )  # fmt: skip
        args = TaggerTrainingArguments(
            output_dir=tmp_path, base_model=None, epochs=3, batch_size=4, lora_r=4,
            minutes=minutes, bf16=False, checkpoint_every=10_000, resume=resume,
        )  # fmt: skip
        return TaggerTrainer(args, encoder=encoder, tokenizer=trainer.tokenizer,
                             windows={"spkatt-news": windows})  # fmt: skip

    first = fresh(1e-9, resume=False).train()
    assert first["stopped_by_time_budget"] and first["steps"] == 1
    state = torch.load(tmp_path / "checkpoint" / "state.pt", weights_only=False)
    assert state["step"] == 1
    second = fresh(60, resume=True).train()
    assert not second["stopped_by_time_budget"] and second["steps"] == 3


def test_a_warm_start_begins_from_the_saved_tagger(trained):
    """``--init-from``: a second schedule starts from the saved adapter and heads, so before
    any step it gives the saved model's logits."""
    trainer, _, out, windows = trained
    encoder = transformers.BertModel.from_pretrained(trainer.args.base_model)
    args = TaggerTrainingArguments(
        output_dir=out / "warm", base_model=trainer.args.base_model, epochs=1, batch_size=4,
        lora_r=4, bf16=False, init_from=out,
    )  # fmt: skip
    warm = TaggerTrainer(args, encoder=encoder, tokenizer=trainer.tokenizer,
                         windows={"spkatt-news": windows})  # fmt: skip
    model, _, _ = load_tagger(out)
    batch = collate(windows, trainer.tokenizer.pad_token_id)
    warm.model.eval()
    with torch.inference_mode():
        before = model(batch["input_ids"], batch["attention_mask"])["logits"]
        after = warm.model(batch["input_ids"], batch["attention_mask"])["logits"]
    for role in ROLES:
        torch.testing.assert_close(before[role], after[role], atol=1e-4, rtol=1e-4)
