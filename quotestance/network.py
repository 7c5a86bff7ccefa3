"""The stance network of a corpus: who threatens, accuses or cooperates with whom.

Reads ``annotate --format jsonl`` output and aggregates quotes with a stance other than
``none`` whose speaker and target both resolved to actors into edges
(speaker actor → target actor, per stance) with counts and example quotes. Nodes are actors
only: persons, organisations and countries by default (``actor_type``; a description that
names no actor, such as *eigenen Angaben*, is type ``other`` and left out); ``min_count``
keeps the edges seen at least that often. Writes a CSV of
edges, a GraphML file (networkx; one edge per stance) and a drawing (matplotlib).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from quotestance.cells import spreadsheet_safe, xml_safe

ACTOR_TYPES = ("person", "organisation", "country", "other")
DEFAULT_ACTOR_TYPES = ("person", "organisation", "country")
STANCE_COLOURS = {"threat": "#dc2626", "accusation": "#ea580c", "cooperation": "#16a34a"}
EXAMPLES = 3


@dataclass
class Edge:
    source: str
    target: str
    stance: str
    count: int = 0
    files: set[str] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)


@dataclass
class Skipped:
    """Lines of the input that are not ``annotate`` records: broken JSON or the wrong shape."""

    count: int = 0
    first_line: int | None = None

    def add(self, number: int) -> None:
        self.count += 1
        if self.first_line is None:
            self.first_line = number

    def __str__(self) -> str:
        return (
            f"skipped {self.count} line(s) that are not annotate records "
            f"(broken JSON or the wrong shape; first: line {self.first_line})"
        )


def _actor(mention: object, types: Iterable[str] = ACTOR_TYPES) -> str | None:
    """The actor a speaker or target mention resolved to: a non-empty string, else None; None
    too when its ``actor_type`` is not in ``types`` (output without the field, written before
    it existed, passes)."""
    actor = mention.get("actor") if isinstance(mention, dict) else None
    kind = mention.get("actor_type") if isinstance(mention, dict) else None
    if kind is not None and kind not in types:
        return None
    if isinstance(actor, str):
        actor = xml_safe(actor).strip()
        return actor or None
    return None


def _shape_ok(record: dict) -> bool:
    """The shape ``annotate --format jsonl`` writes: a list of quote objects whose speaker and
    target are objects or null, with string (or null) actor, stance and text."""
    quotes = record.get("quotes", [])
    if not isinstance(quotes, list) or not isinstance(record.get("file", ""), str):
        return False
    for quote in quotes:
        if not isinstance(quote, dict):
            return False
        for role in ("speaker", "target"):
            mention = quote.get(role)
            if mention is not None and (
                not isinstance(mention, dict)
                or not isinstance(mention.get("actor", ""), str | None)
            ):
                return False
        if not isinstance(quote.get("stance"), str | None):
            return False
        if not isinstance(quote.get("text", ""), str):
            return False
    return True


def read_records(path: Path, skipped: Skipped | None = None) -> Iterator[dict]:
    """JSON Lines records of ``annotate``; error records are left out, and lines that are not
    records (broken JSON, not UTF-8, the wrong shape) are counted in ``skipped``."""
    skipped = skipped if skipped is not None else Skipped()
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
                skipped.add(number)
                continue
            if not isinstance(record, dict):
                skipped.add(number)
            elif record.get("error"):
                continue  # a file annotate could not read: reported there
            elif not _shape_ok(record):
                skipped.add(number)
            else:
                yield record


def build_edges(
    records: Iterable[dict],
    actor_types: Iterable[str] = DEFAULT_ACTOR_TYPES,
    min_count: int = 1,
) -> list[Edge]:
    """Edges of records ``read_records`` accepted, between actors of ``actor_types``, seen at
    least ``min_count`` times. Actor names and examples are XML-safe (no control characters
    or lone surrogates), so every writer can take them as they are."""
    types = tuple(actor_types)
    edges: dict[tuple[str, str, str], Edge] = {}
    for record in records:
        for quote in record.get("quotes", []):
            stance = quote.get("stance")
            speaker = _actor(quote.get("speaker"), types)
            target = _actor(quote.get("target"), types)
            if stance in (None, "none") or not speaker or not target or speaker == target:
                continue
            key = (speaker, target, xml_safe(stance))
            edge = edges.setdefault(key, Edge(*key))
            edge.count += 1
            edge.files.add(record.get("file", ""))
            if len(edge.examples) < EXAMPLES:
                edge.examples.append(xml_safe(quote.get("text", "")[:200]))
    kept = [e for e in edges.values() if e.count >= min_count]
    return sorted(kept, key=lambda e: (-e.count, e.source, e.target, e.stance))


def write_csv(edges: list[Edge], path: Path) -> None:
    """The edges as CSV; every text cell spreadsheet-safe (no cell runs as a formula)."""
    with open(path, "w", encoding="utf-8", errors="replace", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "target", "stance", "count", "files", "examples"])
        for e in edges:
            row = [e.source, e.target, e.stance, e.count, len(e.files), " | ".join(e.examples)]
            writer.writerow([spreadsheet_safe(cell) for cell in row])


def to_graph(edges: list[Edge]):
    """A networkx multigraph, one edge per stance; names and texts XML-safe."""
    import networkx as nx

    graph = nx.MultiDiGraph()
    for e in edges:
        stance = xml_safe(e.stance)
        graph.add_edge(xml_safe(e.source), xml_safe(e.target), key=stance, stance=stance,
                       count=e.count, examples=xml_safe(" | ".join(e.examples)))  # fmt: skip
    return graph


def write_graphml(edges: list[Edge], path: Path) -> None:
    import networkx as nx

    nx.write_graphml(to_graph(edges), str(path))


def _label(name: str, width: int = 40) -> str:
    """A node label matplotlib shows as written (``$`` would start mathtext), cut to ``width``
    characters (a long name would make the figure huge)."""
    short = name if len(name) <= width else name[: width - 1] + "…"
    return short.replace("$", r"\$")


def draw(edges: list[Edge], path: Path, top: int = 60) -> None:
    """The strongest ``top`` edges, coloured by stance, width by count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = to_graph(edges[:top])
    figure, axes = plt.subplots(figsize=(12, 9))
    try:
        if graph.number_of_nodes():
            layout = nx.spring_layout(graph, seed=13, k=1.2)
            nx.draw_networkx_nodes(graph, layout, node_size=300, node_color="#cbd5e1", ax=axes)
            labels = {node: _label(node) for node in graph.nodes}
            nx.draw_networkx_labels(graph, layout, labels=labels, font_size=8, ax=axes)
            for stance, colour in STANCE_COLOURS.items():
                chosen = [(u, v) for u, v, k in graph.edges(keys=True) if k == stance]
                widths = [1 + graph.edges[u, v, stance]["count"] ** 0.5 for u, v in chosen]
                nx.draw_networkx_edges(
                    graph, layout, edgelist=chosen, edge_color=colour, width=widths,
                    arrows=True, connectionstyle="arc3,rad=0.1", ax=axes,
                )  # fmt: skip
            handles = [plt.Line2D([], [], color=c, label=s) for s, c in STANCE_COLOURS.items()]
            axes.legend(handles=handles, loc="lower right")
        else:
            axes.text(0.5, 0.5, "no stance edges", ha="center", va="center")
        axes.set_axis_off()
        axes.set_title("quotestance: speaker → target by stance")
        figure.savefig(path, format="png", dpi=110, bbox_inches="tight")
    finally:
        plt.close(figure)


def output_paths(prefix: Path) -> list[Path]:
    """``PREFIX.edges.csv``, ``PREFIX.graphml``, ``PREFIX.png``; a prefix keeps its dots
    (``run.v2`` -> ``run.v2.edges.csv``)."""
    return [Path(f"{prefix}{suffix}") for suffix in (".edges.csv", ".graphml", ".png")]


def write_outputs(edges: list[Edge], prefix: Path) -> list[Path]:
    """``PREFIX.edges.csv``, ``.graphml`` and ``.png``, each written to a temporary file beside
    it and renamed into place once all three are done: a failure leaves no half-written file
    and no mix of old and new outputs."""
    paths = output_paths(prefix)
    writers = (write_csv, write_graphml, draw)
    temporary: list[str] = []
    try:
        for path, write in zip(paths, writers, strict=True):
            # a name of our own, not mkstemp's: the writers create it with the usual mode
            name = str(path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"))
            temporary.append(name)
            write(edges, Path(name))
        for name, path in zip(temporary, paths, strict=True):
            os.replace(name, path)
        temporary.clear()
    finally:
        for name in temporary:
            with contextlib.suppress(OSError):
                os.unlink(name)
    return paths


def write_network(
    source: Path, prefix: Path, skipped: Skipped | None = None
) -> tuple[list[Edge], list[Path]]:
    """Edges of one ``annotate`` output as ``PREFIX.edges.csv``, ``.graphml`` and ``.png``; the
    whole input is read before any output is opened."""
    edges = build_edges(read_records(source, skipped))
    return edges, write_outputs(edges, prefix)
