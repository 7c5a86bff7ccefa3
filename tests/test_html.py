"""The HTML article view: well-nested markup, quotes coloured by stance, speakers linked to
the document's actor list, a legend."""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

from quotestance.formats import _HTML_HEAD, render_html_article
from quotestance.pipeline import Pipeline

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_fe90af5ba305cfe1.txt"


class _Nesting(html.parser.HTMLParser):
    TAGS = frozenset({"span", "a", "article", "ol", "li", "h2", "p"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.TAGS:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.TAGS:
            if self.stack and self.stack[-1] == tag:
                self.stack.pop()
            else:
                self.errors += 1


def test_seed_article_renders_well_nested_with_linked_speakers():
    pipeline = Pipeline.default(detector="rules", stance=False)  # markup, not stance: no weights
    doc = pipeline.annotate(SEED.read_text(encoding="utf-8"), "seed")
    page = _HTML_HEAD + render_html_article(doc) + "</body></html>"
    checker = _Nesting()
    checker.feed(page)
    assert checker.errors == 0 and checker.stack == []
    assert page.count('class="q stance-') == len(doc.quotes) + 4  # + the legend's four
    anchors = set(re.findall(r'<li id="([^"]+)"', page))
    links = set(re.findall(r'<a class="spk" href="#([^"]+)"', page))
    assert links and links <= anchors
    assert "John Kirby" in page and "legend" in page
    text = re.sub(
        r"<[^>]+>", "", render_html_article(doc).split("<article>")[1].split("</article>")[0]
    )
    assert html.unescape(text) == doc.text  # markup only, the text untouched
