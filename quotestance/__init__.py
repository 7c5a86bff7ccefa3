"""quotestance: who said what, to whom, and with what stance, in German news.

    import quotestance as qs
    nlp = qs.load()                  # options as on the command line (docs/python-api.md)
    doc = nlp("„Wir kommen“, sagte Merkel.")
    frame = qs.to_dataframe(nlp.pipe(texts))

The names below are imported on first use: ``import quotestance`` stays light (no torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "load": "quotestance.api",
    "to_dataframe": "quotestance.api",
    "QuoteStance": "quotestance.api",
    "Pipeline": "quotestance.pipeline",
    "Document": "quotestance.document",
    "Quote": "quotestance.document",
    "Mention": "quotestance.document",
    "Span": "quotestance.document",
    "Actor": "quotestance.document",
    "Sentence": "quotestance.document",
    "Token": "quotestance.document",
}
__all__ = [  # noqa: RUF022 (the order of _LAZY)
    "__version__", "load", "to_dataframe", "QuoteStance", "Pipeline", "Document", "Quote",
    "Mention", "Span", "Actor", "Sentence", "Token",
]  # fmt: skip

if TYPE_CHECKING:
    from quotestance.api import QuoteStance, load, to_dataframe
    from quotestance.document import Actor, Document, Mention, Quote, Sentence, Span, Token
    from quotestance.pipeline import Pipeline


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'quotestance' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
