"""The learned quote tagger: a transformer encoder with one BIO head per role.

``TaggerModel`` puts a LayerNorm and four linear heads (message with form, cue, source,
addressee) on any Hugging Face encoder. e5's output vectors are small (spread about 0.1),
and a fresh head on them learns too slowly without the normalisation (base-model.md).

What ships is small: LoRA adapter weights of the encoder plus the heads, in one safetensors
file with a JSON config naming the base encoder (``quotestance/resources/tagger/``). At load
the adapter is merged into the base weights, so inference costs the same as the plain encoder.

``QuoteTagger`` is the inference side: document -> word tags -> character spans -> quotes,
with cues and speakers linked to the nearest message by sentence distance.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from quotestance.adapters import JSONConfig, add_lora, load_adapted, load_heads, save_adapted
from quotestance.detect.clauses import cue_with_correlate, tag
from quotestance.detect.labels import IGNORE, KIND_OF_FORM, ROLES, TAGS, tags_to_spans
from quotestance.detect.tagger_files import CONFIG_FILE, DEFAULT_TAGGER_DIR, WEIGHTS_FILE
from quotestance.document import Document, Mention, Quote, Span
from quotestance.encoding import WordEncoding
from quotestance.intervals import IntervalIndex
from quotestance.padding import fixed_width_batches
from quotestance.text import content_words

ROLE_WEIGHTS = {"message": 1.0, "cue": 1.0, "source": 1.0, "addressee": 0.5}


@dataclass
class TaggerConfig(JSONConfig):
    """Everything needed to rebuild the tagger around its base encoder."""

    base_model: str | None = None  # None: the embedded e5 (quotestance.backbone)
    max_len: int = 256
    stride: int = 192
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    lora_targets: tuple[str, ...] = ("query", "key", "value", "dense")
    dropout: float = 0.1
    tags: dict[str, list[str]] = field(
        default_factory=lambda: {role: list(TAGS[role]) for role in ROLES}
    )
    training: dict[str, Any] = field(default_factory=dict)  # provenance: data, command, time


class TaggerModel(nn.Module):
    """Encoder + LayerNorm + one linear head per role."""

    def __init__(self, encoder: nn.Module, hidden_size: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.norm = nn.LayerNorm(hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict(
            {role: nn.Linear(hidden_size, len(TAGS[role])) for role in ROLES}
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        labels: dict[str, torch.Tensor] | None = None,
    ) -> dict[str, Any]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        hidden = self.dropout(self.norm(hidden.float()))
        logits = {role: head(hidden) for role, head in self.heads.items()}
        out: dict[str, Any] = {"logits": logits, "hidden": hidden}
        if labels is not None:
            loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
            losses = {
                role: loss_fn(
                    logits[role].reshape(-1, logits[role].shape[-1]), labels[role].reshape(-1)
                )
                for role in ROLES
                if role in labels and bool((labels[role] != IGNORE).any())
            }
            out["losses"] = {role: loss.detach() for role, loss in losses.items()}
            out["loss"] = sum(ROLE_WEIGHTS[role] * loss for role, loss in losses.items())
        return out

    def head_state(self) -> dict[str, torch.Tensor]:
        """The weights trained from scratch (LayerNorm and heads), for saving beside the adapter."""
        state = {f"norm.{k}": v for k, v in self.norm.state_dict().items()}
        for role, head in self.heads.items():
            state.update({f"heads.{role}.{k}": v for k, v in head.state_dict().items()})
        return state


def save_tagger(model: TaggerModel, config: TaggerConfig, directory: Path) -> Path:
    """Adapter + heads as one safetensors file, the config as JSON."""
    save_adapted(
        model.encoder, model.head_state(), config.to_json(),
        directory / WEIGHTS_FILE, directory / CONFIG_FILE,
    )  # fmt: skip
    return directory


def load_tagger(
    directory: Path | None = None, merge: bool = True
) -> tuple[TaggerModel, Any, TaggerConfig]:
    """Rebuild a saved tagger: base encoder (from quotestance.backbone), adapter, heads."""
    from quotestance.backbone import load_backbone

    directory = Path(directory or DEFAULT_TAGGER_DIR)
    if not (directory / WEIGHTS_FILE).is_file():
        raise FileNotFoundError(
            f"no tagger weights in {directory} (train one: training/train_tagger.py)"
        )
    config = TaggerConfig.from_json((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    encoder, tokenizer = load_backbone(config.base_model)
    encoder, heads = load_adapted(add_lora(encoder, config), directory / WEIGHTS_FILE, merge)
    model = TaggerModel(encoder, encoder.config.hidden_size, config.dropout)
    load_heads(model, heads, directory / WEIGHTS_FILE)
    return model, tokenizer, config


# ---------------------------------------------------------------- inference


def _sentence_index(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset) - 1  # np.searchsorted would copy the list


MIN_MESSAGE_WORDS = 2
_OPENING_MARKS = set("„‚»«\"'“")
_QUOTATION_MARKS = _OPENING_MARKS | set("”»«“")


# an attribution inside one claim: "Ein Verdacht bestehe [nach Angaben der Polizei] nicht",
# "Die Lage sei[, so der Minister,] ernst", "Es handele sich [ersten Angaben zufolge] um …"
_ATTRIBUTION_GAP = re.compile(
    r"""^[\s,]*(?:
        (?:laut|gemäß)\s[^.!?;:„“"»«]{1,80}
      | (?:nach|laut)\s(?:\w+\s){0,2}Angaben\b[^.!?;:„“"»«]{0,80}
      | [^.!?;:„“"»«]{1,80}\szufolge
      | so\s[^.!?;:„“"»«]{1,60},
    )[\s,]*$""",
    re.VERBOSE,
)


class MessageSpan(NamedTuple):
    """A decoded message: its span, its form, and the attribution holes inside it."""

    start: int
    end: int
    form: str
    holes: tuple[tuple[int, int], ...] = ()


def smooth_messages(text: str, spans: list[tuple[int, int, str]]) -> list[MessageSpan]:
    """Repair the tagger's flicker inside long quotes and rejoin claims cut by attribution.

    Word-level tags sometimes drop to ``O`` (or restart with ``B``) for a word in the middle
    of a quote, which splits one quote into fragments. Two message spans are joined when at
    most one word and no sentence end or paragraph break lies between them, or when what
    lies between is an attribution phrase (*laut X*, *nach Angaben X*, *X zufolge*,
    *, so X,*): SpkAtt annotates such a claim as one message with the attribution left out,
    and the attribution is kept as a hole, so that its source still counts for the quote. A
    remaining one-word span is dropped unless quotation marks enclose it (*„fahrlässig“*).
    """
    merged: list[list] = []
    for start, end, form in _split_at_paragraphs(text, spans):
        if merged:
            gap = text[merged[-1][1] : start]
            words = content_words(gap)
            same_sentence = not any(ch in gap for ch in ".!?") and "\n\n" not in gap
            if len(words) <= 1 and same_sentence:
                merged[-1][1] = max(merged[-1][1], end)
                continue
            if words and same_sentence and _ATTRIBUTION_GAP.match(gap):
                merged[-1][3].append((merged[-1][1], start))
                merged[-1][1] = max(merged[-1][1], end)
                continue
        merged.append([start, end, form, []])
    out = []
    for start, end, form, holes in merged:
        words = content_words(text[start:end])
        if len(words) < MIN_MESSAGE_WORDS and text[start : start + 1] not in _OPENING_MARKS:
            continue
        out.append(MessageSpan(start, end, form, tuple(holes)))
    return out


SHORT_MESSAGE_WORDS = 4  # shorter unmarked spans need a verb (unless Reported)
OPEN_ENDED_MAX_WORDS = 8  # shorter unmarked spans may not end mid-phrase
# a span ending on these was cut in the middle of a phrase ("die Arbeit der", "von Stadt und")
_OPEN_ENDED_TAGS = {"ART", "APPR", "APPRART", "KON", "KOUS", "KOKOM", "PRELS", "PDAT",
                    "PPOSAT", "PIAT", "ADJA", "CARD", "PTKZU"}  # fmt: skip


def repair_fragment(
    doc: Document, start: int, end: int, form: str = "", starts: list[int] | None = None
) -> int | None:
    """The end a short unmarked message should have: its own, the end of its sentence when
    it breaks off mid-phrase (up to eight words: *der Waffenruhe sollen in der*), or None
    (drop it) when it has no verb at all (up to four words: *die Nationalgarde*).

    On SpkAtt-news dev, half of the tagger's unmarked messages of four words or fewer were
    wrong (*die Arbeit der*, *die Nationalgarde*), while short gold messages are clauses with
    a verb (*er sei unschuldig*, *von seinem Amt zurückzutreten*) or, for ``Reported``
    speech, the object of a speech act (*forderte die Vernichtung der Lagerbestände*), which
    may have no verb. A span that breaks off mid-phrase is the start of a claim the word tags
    lost, so it is carried to its sentence's end. Without part-of-speech tags (no morphology
    stage) nothing is changed. ``starts``: the sentences' start offsets, when the caller has
    them (one list per document keeps the decoding linear).
    """
    text = doc.text[start:end]
    if any(ch in _QUOTATION_MARKS for ch in text):
        return end
    words = content_words(text)
    if len(words) > OPEN_ENDED_MAX_WORDS:
        return end
    if starts is None:
        starts = [sent.start for sent in doc.sentences]
    tags = []
    last_sentence = None
    for k in range(max(0, _sentence_index(starts, start)), len(doc.sentences)):
        sent = doc.sentences[k]
        if sent.start >= end:
            break
        last_sentence = sent
        tags += [
            tag(t)
            for t in sent.tokens
            if start <= t.start and t.end <= end and any(ch.isalnum() for ch in t.text)
        ]
    if not tags or not all(tags) or last_sentence is None:
        return end
    if tags[-1] in _OPEN_ENDED_TAGS:
        return max(end, last_sentence.end)
    if len(words) <= SHORT_MESSAGE_WORDS and form != "Reported":
        return end if any(t.startswith("V") for t in tags) else None
    return end


def repair_messages(
    doc: Document, messages: list[MessageSpan], starts: list[int]
) -> list[MessageSpan]:
    """Apply ``repair_fragment`` to each message; a fragment carried to its sentence's end
    absorbs the messages it runs into, so no two quotes overlap.

    The carried fragment and the message after it are the two halves of one claim whose
    middle the word tags lost (*Seit Ende der Waffenruhe sollen* … *getötet worden sein*).
    The form of the longer half is kept.
    """
    out: list[MessageSpan] = []
    tagged_length: list[int] = []  # each output message's longest tagged part, for its form
    for message in messages:
        end = repair_fragment(doc, message.start, message.end, message.form, starts)
        if end is None:
            continue
        length = message.end - message.start
        message = message._replace(end=end)
        if out and message.start < out[-1].end:
            previous = out[-1]
            form = message.form if length > tagged_length[-1] else previous.form
            out[-1] = MessageSpan(
                previous.start, max(previous.end, message.end), form, previous.holes + message.holes
            )
            tagged_length[-1] = max(tagged_length[-1], length)
            continue
        out.append(message)
        tagged_length.append(length)
    return out


def _split_at_paragraphs(
    text: str, spans: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """Only quotation marks carry a quote over a blank line; other spans are cut there."""
    out = []
    for start, end, form in sorted(spans):
        if text[start : start + 1] in _OPENING_MARKS:
            out.append((start, end, form))
            continue
        pos = start
        while (cut := text.find("\n\n", pos, end)) != -1:
            piece = text[pos:cut].rstrip()
            if piece:
                out.append((pos, pos + len(piece), form))
            pos = cut + 2
            while pos < end and text[pos].isspace():
                pos += 1
        if pos < end:
            out.append((pos, end, form))
    return out


def join_adjacent(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Join spans that only whitespace separates (a name tagged B B instead of B I)."""
    out: list[tuple[int, int, str]] = []
    for start, end, form in sorted(spans):
        if out and not text[out[-1][1] : start].strip() and "\n" not in text[out[-1][1] : start]:
            out[-1] = (out[-1][0], end, out[-1][2])
        else:
            out.append((start, end, form))
    return out


def spans_to_quotes(
    doc: Document,
    role_spans: dict[str, list[tuple[int, int, str]]],
) -> list[Quote]:
    """Quotes from tagged spans: each message gets the nearest cue and source by sentence.

    A cue or source counts for a message when it lies in the message's sentences or the one
    before or after, in the same paragraph and outside the message; the closest in
    characters wins. A message with no source nearby gets no speaker here: carrying a
    speaker over from an earlier quote is the speaker stage's choice (``speakers/``).
    """
    starts = [s.start for s in doc.sentences]
    paragraph = [s.paragraph for s in doc.sentences]

    def sentence_range(start: int, end: int) -> tuple[int, int]:
        return _sentence_index(starts, start), _sentence_index(starts, max(start, end - 1))

    def nearest(
        role: str, start: int, end: int, holes: tuple[tuple[int, int], ...] = ()
    ) -> Span | None:
        spans, index = role_spans[role], indexes[role]
        first, last = sentence_range(start, end)
        best, best_gap = None, None
        # only spans from sentence first - 1 to last + 1 can count (tested again below)
        low = starts[first - 1] if first >= 1 else -math.inf
        high = starts[last + 2] if 0 <= last + 2 < len(starts) else math.inf
        for k in index.candidates(low - 1, high):
            s, e, _ = spans[k]
            if any(hs <= s and e <= he for hs, he in holes):
                return Span(s, e, doc.text[s:e])  # the claim's own attribution (laut X)
            if s < end and e > start:
                continue  # inside the message: a nested quote's role, not this one's
            sf, sl = sentence_range(s, e)
            if sl < first - 1 or sf > last + 1:
                continue
            if paragraph and paragraph[sf] not in (paragraph[first], paragraph[last]):
                continue  # roles do not reach across a paragraph break
            gap = s - end if s >= end else start - e
            if best_gap is None or gap < best_gap:
                best, best_gap = Span(s, e, doc.text[s:e]), gap
        return best

    role_spans = {
        **role_spans,
        "source": join_adjacent(doc.text, role_spans.get("source", [])),
        "addressee": join_adjacent(doc.text, role_spans.get("addressee", [])),
        "cue": join_adjacent(doc.text, role_spans.get("cue", [])),
    }
    indexes = {
        role: IntervalIndex(role_spans[role], key=lambda span: (span[0], span[1]))
        for role in ("cue", "source", "addressee")
    }
    quotes: list[Quote] = []
    messages = smooth_messages(doc.text, role_spans.get("message", []))
    for start, end, form, holes in repair_messages(doc, messages, starts):
        cue = cue_with_correlate(doc, nearest("cue", start, end, holes))
        source = nearest("source", start, end, holes)
        addressee = nearest("addressee", start, end, holes)
        evidence = ["tagger"]
        speaker = Mention(source.start, source.end, source.text) if source else None
        text = doc.text[start:end]
        kind = KIND_OF_FORM.get(form, "indirect")
        if kind != "direct" and any(ch in text for ch in '„“”»«"'):
            kind = "mixed"
        quotes.append(
            Quote(
                start=start,
                end=end,
                text=text,
                kind=kind,
                cue=cue,
                speaker=speaker,
                addressee=Mention(addressee.start, addressee.end, addressee.text)
                if addressee
                else None,
                evidence=evidence,
            )
        )
    return quotes


class QuoteTagger:
    """Tags documents with a trained ``TaggerModel``: one model load per process."""

    name = "tagger"

    def __init__(
        self,
        model: TaggerModel,
        tokenizer: Any,
        config: TaggerConfig,
        batch_size: int = 16,
        bf16: bool = True,
    ) -> None:
        from quotestance.backbone import text_prefix

        self.model, self.tokenizer, self.config = model, tokenizer, config
        self.batch_size = batch_size
        self.bf16 = bf16
        self.prefix = text_prefix(config.base_model)
        self.encoded_subwords = 0  # subwords fed to the encoder so far (for the benchmark)
        self.padded_subwords = 0  # the same with padding: what the encoder computed

    @classmethod
    def load(
        cls,
        directory: Path | None = None,
        batch_size: int = 16,
        bf16: bool | None = None,
        threads: int | None = None,
    ) -> QuoteTagger:
        """The saved tagger (default: the shipped one in ``quotestance/resources/tagger/``);
        bf16 autocast unless ``QUOTESTANCE_FP32=1``."""
        from quotestance.backbone import bf16_default

        if threads:
            torch.set_num_threads(threads)
        model, tokenizer, config = load_tagger(directory)
        return cls(model, tokenizer, config, batch_size, bf16_default() if bf16 is None else bf16)

    def word_tags_many(
        self, docs: list[Document]
    ) -> list[tuple[list[tuple[int, int]], dict[str, np.ndarray]]]:
        """Each word's tag id per role, for several documents at once.

        Windows of all documents are batched together, so short articles fill batches
        instead of running one small forward pass each; each window is padded to a width
        set by its own length (``quotestance.padding``), so a document's tags never depend
        on the other documents of the batch.
        """
        from quotestance.detect.windows import (
            collate,
            document_words,
            make_windows,
            merge_window_predictions,
            sentence_starts,
        )

        all_words = [document_words(doc) for doc in docs]
        windows = []
        for k, (doc, words) in enumerate(zip(docs, all_words, strict=True)):
            texts = [doc.text[s:e] for s, e in words]
            windows += make_windows(
                texts, None, self.tokenizer, k, self.config.max_len, self.config.stride,
                self.prefix, sentence_starts=sentence_starts(doc),
            )  # fmt: skip
        per_window: dict[int, dict[str, np.ndarray]] = {}
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            lengths = [len(w.input_ids) for w in windows]
            self.encoded_subwords += sum(lengths)
            for width, idx in fixed_width_batches(lengths, self.batch_size):
                self.padded_subwords += width * len(idx)
                batch = collate([windows[i] for i in idx], self.tokenizer.pad_token_id, width)
                result = self.model(batch["input_ids"], batch["attention_mask"])
                out, hidden = result["logits"], result["hidden"]
                for j, i in enumerate(idx):
                    n = len(windows[i].input_ids)
                    per_window[i] = {r: out[r][j, :n].float().numpy() for r in ROLES}
                    per_window[i]["hidden"] = hidden[j, :n].to(torch.float16).numpy()
        results = []
        for k, words in enumerate(all_words):
            mine = [i for i, w in enumerate(windows) if w.doc_id == k]
            if not words or not mine:
                empty: dict[str, np.ndarray] = {
                    r: np.zeros(len(words), dtype=np.int64) for r in ROLES
                }
                empty["hidden"] = np.zeros((len(words), self.model.norm.normalized_shape[0]))
                results.append((words, empty))
                continue
            logits = {role: [per_window[i][role] for i in mine] for role in (*ROLES, "hidden")}
            merged = merge_window_predictions([windows[i] for i in mine], logits, len(words))
            tags = {role: merged[role].argmax(-1) for role in ROLES}
            tags["hidden"] = merged["hidden"]
            for role in ("source", "addressee"):  # P(word is in the role), for the speaker stage
                scores = merged[role] - merged[role].max(-1, keepdims=True)
                probs = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
                tags[f"{role}_p"] = 1.0 - probs[:, 0]
            results.append((words, tags))
        return results

    def detect_many(self, docs: list[Document]) -> list[list[Quote]]:
        """Quotes per document; the tagged source, addressee and cue spans go to
        ``doc.tagged_roles`` and the encoder's word states to ``doc.encoding``, for the
        speaker stage."""
        out = []
        for doc, (words, tags) in zip(docs, self.word_tags_many(docs), strict=True):
            if not words:
                out.append([])
                continue
            doc.encoding = WordEncoding.of(words, tags["hidden"])
            role_spans = {role: tags_to_spans(role, words, tags[role].tolist()) for role in ROLES}
            for role in ("source", "addressee", "cue"):
                doc.tagged_roles[role] = [
                    Span(s, e, doc.text[s:e])
                    for s, e, _ in join_adjacent(doc.text, role_spans[role])
                ]
            for role in ("source", "addressee"):
                doc.role_scores[role] = [
                    (s, e, round(float(p), 3))
                    for (s, e), p in zip(words, tags[f"{role}_p"], strict=True)
                    if p >= 0.02
                ]
            out.append(spans_to_quotes(doc, role_spans))
        return out

    def detect(self, doc: Document) -> list[Quote]:
        return self.detect_many([doc])[0]

    def batch(self, docs: list[Document]) -> list[Document]:
        """Pipeline batch call: tag several documents with shared forward passes."""
        for doc, quotes in zip(docs, self.detect_many(docs), strict=True):
            doc.quotes.extend(quotes)
        return docs

    def __call__(self, doc: Document) -> Document:
        doc.quotes.extend(self.detect(doc))
        return doc
