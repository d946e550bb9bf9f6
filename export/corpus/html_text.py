"""The prose of an HTML page (a hand-written parser on html.parser): block elements end
paragraphs; code, tables and navigation are left out."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _ProseHTMLParser(HTMLParser):
    """Collect the prose of an HTML page: block elements end paragraphs, code and chrome go."""

    BLOCK = {
        "p",
        "div",
        "section",
        "article",
        "li",
        "dd",
        "dt",
        "dl",
        "ul",
        "ol",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "td",
        "th",
        "tr",
        "title",
        "body",
        "header",
        "footer",
        "figcaption",
        "caption",
    }
    SKIP = {"script", "style", "pre", "table", "head", "nav", "object", "svg", "math", "kbd"}
    SKIP_CLASSES = {
        "navheader",
        "navfooter",
        "toc",
        "titlepage",
        "list-of-tables",
        "list-of-figures",
        "list-of-examples",
        "breadcrumb",
        "footnotes",
        "header",
        "footer",
        "sphinxsidebar",
        "related",
        "screen",
        "headerlink",
        "highlight",
        "programlisting",
        "synopsis",
        "cmdsynopsis",
        "example",
        "contents",
        "nav",
        "menu",
    }
    VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_stack: list[str] = []  # open tags (by name) inside a skipped element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_stack:
            if tag not in self.VOID:
                self.skip_stack.append(tag)
            return
        classes = set((dict(attrs).get("class") or "").split())
        if tag not in self.VOID and (tag in self.SKIP or classes & self.SKIP_CLASSES):
            self.skip_stack.append(tag)
            return
        if tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skip_stack:
            if tag in self.skip_stack:
                # Pop up to and including the matching open tag (tolerates unclosed <p>, <li>).
                while self.skip_stack.pop() != tag:
                    pass
            if not self.skip_stack:
                self.parts.append("\n\n")
            return
        if tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        # A lone '§' or '¶' is a permalink (PostgreSQL release notes, Sphinx headings).
        if not self.skip_stack and data.strip() not in ("§", "¶"):
            self.parts.append(data)


def html_to_paragraphs(markup: str) -> list[str]:
    """Raw paragraphs of an HTML page, without code, tables or navigation."""
    parser = _ProseHTMLParser()
    parser.feed(markup)
    parser.close()
    return re.split(r"\n\s*\n", "".join(parser.parts))
