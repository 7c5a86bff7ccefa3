"""The learned speaker scorer: ranks a quote's candidate speakers on the tagger's own states.

For each (quote, candidate) pair it adds two scores: a linear one over the linker's sparse
features (``speakers.linker.features``: position, phrase kind, cue distance, tagger
probability …; started from the logistic regression's weights) and a small MLP over the
encoder states the tagger already computed (``doc.encoding``: mean word states of the quote,
its cue and the candidate, and the quote × candidate product). No extra encoder pass. A
quote's candidates and a "nobody" option share one softmax, so the scorer also says when a
quote has no speaker in reach. Trained by ``training/train_speaker.py --model neural``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from quotestance.resources import resource_path
from quotestance.speakers.pairs import PairInputs

DEFAULT_SCORER = resource_path("speakers", "scorer.json")
WEIGHTS_FILE = "scorer.safetensors"


class SpeakerScorerModel(nn.Module):
    """Sparse linear part + state MLP per candidate; a state MLP for the "nobody" option."""

    def __init__(self, n_features: int, hidden_size: int, inner: int = 128, dropout: float = 0.1):
        super().__init__()
        self.sparse = nn.EmbeddingBag(n_features, 1, mode="sum")
        nn.init.zeros_(self.sparse.weight)
        self.pair = nn.Sequential(
            nn.Linear(4 * hidden_size, inner), nn.GELU(), nn.Dropout(dropout), nn.Linear(inner, 1)
        )
        self.nobody = nn.Sequential(
            nn.Linear(2 * hidden_size, inner), nn.GELU(), nn.Dropout(dropout), nn.Linear(inner, 1)
        )

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """(quotes, 1 + max candidates) logits; column 0 is "nobody", padding is -inf.

        ``batch``: ``quote`` (Q, 2H: quote and cue states), ``cand`` (C, H), ``owner`` (C,):
        the quote row of each candidate, ``slot`` (C,): its column, ``feat_index`` /
        ``feat_value`` / ``feat_offsets``: the candidates' sparse features as a bag."""
        quote, cand, owner = batch["quote"], batch["cand"], batch["owner"]
        q = quote[owner, : cand.shape[1]]
        pair = torch.cat([quote[owner], cand, q * cand], dim=-1)
        linear = self.sparse(
            batch["feat_index"], batch["feat_offsets"], per_sample_weights=batch["feat_value"]
        ).squeeze(-1)
        cand_score = linear + self.pair(pair).squeeze(-1)
        width = int(batch["slot"].max()) + 1 if len(cand_score) else 1
        logits = torch.full((len(quote), width), float("-inf"), dtype=cand_score.dtype)
        logits[:, 0] = self.nobody(quote).squeeze(-1)
        logits[owner, batch["slot"]] = cand_score
        return logits


def collate(items: list[PairInputs], vocab: dict[str, int]) -> dict[str, torch.Tensor]:
    """A batch of quotes for ``SpeakerScorerModel.forward``; unknown features are dropped."""
    owner, slot, index, value, offsets = [], [], [], [], []
    for q, item in enumerate(items):
        for k, feats in enumerate(item.feats):
            owner.append(q)
            slot.append(k + 1)
            offsets.append(len(index))
            for name, v in feats.items():
                j = vocab.get(name)
                if j is not None:
                    index.append(j)
                    value.append(v)
    hidden = items[0].quote.shape[0] // 2
    cands = [item.cands for item in items if len(item.cands)]
    return {
        "quote": torch.from_numpy(np.stack([item.quote for item in items])).float(),
        "cand": torch.from_numpy(np.concatenate(cands)).float()
        if cands
        else torch.zeros((0, hidden)),
        "owner": torch.tensor(owner, dtype=torch.long),
        "slot": torch.tensor(slot, dtype=torch.long),
        "feat_index": torch.tensor(index, dtype=torch.long),
        "feat_value": torch.tensor(value, dtype=torch.float32),
        "feat_offsets": torch.tensor(offsets, dtype=torch.long),
    }


class SpeakerScorer:
    """Inference side: probabilities of "nobody" and of each candidate for one quote."""

    def __init__(self, model: SpeakerScorerModel, vocab: dict[str, int], info: dict) -> None:
        self.model = model.eval()
        self.vocab = vocab
        self.info = info

    @classmethod
    def load(cls, path: Path | None = None) -> SpeakerScorer:
        from safetensors.torch import load_file

        path = Path(path or DEFAULT_SCORER)
        info = json.loads(path.read_text(encoding="utf-8"))
        vocab = {name: k for k, name in enumerate(info["features"])}
        model = SpeakerScorerModel(len(vocab), info["hidden_size"], info["inner"])
        model.load_state_dict(load_file(str(path.parent / info["weights"])))
        return cls(model, vocab, info)

    def probabilities(self, inputs: PairInputs) -> tuple[float, list[float]]:
        """P(nobody) and P(candidate k) for one quote (they sum to one)."""
        if not inputs.feats:
            return 1.0, []
        with torch.inference_mode():
            logits = self.model(collate([inputs], self.vocab))[0]
            probs = torch.softmax(logits, dim=-1).tolist()
        return probs[0], probs[1 : 1 + len(inputs.feats)]


def scorer_available(path: Path | None = None) -> bool:
    path = Path(path or DEFAULT_SCORER)
    if not path.is_file():
        return False
    info = json.loads(path.read_text(encoding="utf-8"))
    return (path.parent / info["weights"]).is_file()
