"""The stance network of a corpus: who threatens, accuses or cooperates with whom.

Reads ``annotate --format jsonl`` output and aggregates quotes with a stance other than
``none`` whose speaker and target both resolved to actors into edges
(speaker actor → target actor, per stance) with counts and example quotes. Writes a CSV of
edges, a GraphML file (networkx; one edge per stance) and a drawing (matplotlib).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

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


def read_records(path: Path) -> Iterator[dict]:
    """JSON Lines records of ``annotate``; error records and broken lines are skipped."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and not record.get("error"):
                yield record


def build_edges(records: Iterable[dict]) -> list[Edge]:
    edges: dict[tuple[str, str, str], Edge] = {}
    for record in records:
        for quote in record.get("quotes", []):
            stance = quote.get("stance")
            speaker = (quote.get("speaker") or {}).get("actor")
            target = (quote.get("target") or {}).get("actor")
            if stance in (None, "none") or not speaker or not target or speaker == target:
                continue
            key = (speaker, target, stance)
            edge = edges.setdefault(key, Edge(*key))
            edge.count += 1
            edge.files.add(record.get("file", ""))
            if len(edge.examples) < EXAMPLES:
                edge.examples.append(quote.get("text", "")[:200])
    return sorted(edges.values(), key=lambda e: (-e.count, e.source, e.target, e.stance))


def write_csv(edges: list[Edge], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "target", "stance", "count", "files", "examples"])
        for e in edges:
            writer.writerow([e.source, e.target, e.stance, e.count, len(e.files),
                             " | ".join(e.examples)])  # fmt: skip


def to_graph(edges: list[Edge]):
    import networkx as nx

    graph = nx.MultiDiGraph()
    for e in edges:
        graph.add_edge(e.source, e.target, key=e.stance, stance=e.stance, count=e.count,
                       examples=" | ".join(e.examples))  # fmt: skip
    return graph


def write_graphml(edges: list[Edge], path: Path) -> None:
    import networkx as nx

    nx.write_graphml(to_graph(edges), str(path))


def draw(edges: list[Edge], path: Path, top: int = 60) -> None:
    """The strongest ``top`` edges, coloured by stance, width by count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    graph = to_graph(edges[:top])
    figure, axes = plt.subplots(figsize=(12, 9))
    if graph.number_of_nodes():
        layout = nx.spring_layout(graph, seed=13, k=1.2)
        nx.draw_networkx_nodes(graph, layout, node_size=300, node_color="#cbd5e1", ax=axes)
        nx.draw_networkx_labels(graph, layout, font_size=8, ax=axes)
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
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)


def write_network(source: Path, prefix: Path) -> tuple[list[Edge], list[Path]]:
    """Edges of one ``annotate`` output as ``PREFIX.edges.csv``, ``.graphml`` and ``.png``."""
    edges = build_edges(read_records(source))
    paths = [prefix.with_suffix(".edges.csv"), prefix.with_suffix(".graphml"),
             prefix.with_suffix(".png")]  # fmt: skip
    write_csv(edges, paths[0])
    write_graphml(edges, paths[1])
    draw(edges, paths[2])
    return edges, paths
