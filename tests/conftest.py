"""Shared test fixtures: a tiny tokenizer and encoder built here, so no test needs weights."""

from __future__ import annotations

import pytest

GERMAN_TEXT = (
    "Der Minister sagte am Montag in Berlin: „Wir werden die Steuern nicht erhöhen.“ "
    "Die Opposition warf ihm daraufhin vor, er habe die Wähler getäuscht. "
    "Nach Angaben der Polizei wurden bei dem Unfall drei Menschen verletzt. "
    "„Das ist ein schwarzer Tag“, sagte die Bürgermeisterin der Stadt. "
    "Sie forderte die Landesregierung auf, schnell zu handeln.\n\n"
    "Der Verband kritisierte die Pläne scharf. Die Regierung solle ihre Haltung überdenken, "
    "hieß es in einer Mitteilung vom Dienstag."
)


def make_tiny_tokenizer(texts: list[str], vocab_size: int = 120):
    """A WordPiece tokenizer trained on ``texts``, wrapped as a fast HF tokenizer."""
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    )
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
    )


@pytest.fixture(scope="module")
def tokenizer():
    """A WordPiece tokenizer with a small vocabulary, so most words take several subwords."""
    return make_tiny_tokenizer([GERMAN_TEXT] * 3)
