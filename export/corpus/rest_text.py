"""The prose of a reStructuredText source (a hand-written reader, as Sphinx projects write it):
directives whose body is not prose are skipped, inline markup is reduced to its text."""

from __future__ import annotations

import re

# reST directives whose body is not prose (code, tables, index entries, tocs).
REST_SKIP_DIRECTIVES = {
    "code-block",
    "code",
    "sourcecode",
    "literalinclude",
    "productionlist",
    "index",
    "toctree",
    "highlight",
    "highlightlang",
    "doctest",
    "testcode",
    "testoutput",
    "testsetup",
    "testcleanup",
    "csv-table",
    "list-table",
    "table",
    "image",
    "figure",
    "raw",
    "only",
    "include",
    "tabularcolumns",
    "audit-event",
    "moduleauthor",
    "sectionauthor",
    "module",
    "currentmodule",
    "program",
    "grammar-snippet",
    "literal-block",
    "parsed-literal",
    "math",
    "graphviz",
    "digraph",
    "limited-api-list",
    "miscnews",
}
_REST_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:-]+)::(.*)$")
_REST_COMMENT = re.compile(r"^(\s*)\.\.(\s|$)")
_REST_UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+:.<>_])\1{2,}\s*$")
_REST_FIELD = re.compile(r"^\s*:[\w-]+:(\s.*)?$")
_REST_TABLE = re.compile(r"^\s*[+|]")
_REST_BULLET = re.compile(r"^(\s*)(?:[-*+•]|#\.|\d+\.|\(\d+\))\s+")


def rest_inline(text: str) -> str:
    """Replace reST inline markup by its visible text."""

    # :role:`title <target>` -> title, :role:`~a.b.c` -> c, :role:`!x` -> x, :pep:`8` -> PEP 8,
    # :issue:`123` -> bpo-123
    def role(match: re.Match[str]) -> str:
        name, inner = match.groups()
        if name in ("pep", "rfc") and inner.isdigit():
            return f"{name.upper()} {inner}"
        if name in ("issue", "gh") and inner.isdigit():
            return f"{'bpo' if name == 'issue' else 'gh'}-{inner}"
        titled = re.match(r"(.*?)\s*<[^<>]*>$", inner, re.S)
        if titled and titled.group(1):
            return titled.group(1)
        if inner.startswith("~"):
            return inner[1:].rsplit(".", 1)[-1]
        return inner.lstrip("!")

    text = re.sub(r":([\w:+-]+):`([^`]+)`", role, text)
    text = re.sub(r"``(.+?)``", r"\1", text)
    text = re.sub(r"`([^`<]+?)\s*<[^`]*>`__?", r"\1", text)  # `text <url>`_
    text = re.sub(r"`([^`]+)`__?", r"\1", text)  # `ref`_
    text = re.sub(r"`([^`]+)`", r"\1", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])", r"\1", text)
    text = re.sub(r"\|(\w[\w -]*)\|", r"\1", text)
    text = re.sub(r"\b(\w+)__?(?=[\s.,;:)]|$)", r"\1", text)  # word_ reference
    return text.replace("\\", "")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def rest_to_paragraphs(source: str) -> list[str]:
    """Raw paragraphs of a reStructuredText page: prose kept, code, tables and indices dropped.

    Blocks are skipped by indentation: a skipped construct (directive with a non-prose body,
    comment, literal block after '::') swallows every following line indented deeper than it.
    """
    paragraphs: list[list[str]] = [[]]
    skip_above: int | None = None  # skip lines indented more than this
    literal_next = False  # previous paragraph ended with '::'
    literal_indent = 0
    in_doctest = False
    list_indent: int | None = None  # indent of the bullets of the current list paragraph

    def new_paragraph() -> None:
        if paragraphs[-1]:
            paragraphs.append([])

    for line in source.splitlines():
        stripped = line.strip()
        if skip_above is not None:
            if not stripped or _indent(line) > skip_above:
                continue
            skip_above = None
        if not stripped:
            in_doctest = False
            list_indent = None
            new_paragraph()
            continue
        if literal_next:
            literal_next = False
            if _indent(line) > literal_indent:
                skip_above = literal_indent
                continue
        directive = _REST_DIRECTIVE.match(line)
        if directive:
            new_paragraph()
            if directive.group(2).lower() in REST_SKIP_DIRECTIVES:
                skip_above = len(directive.group(1))
            continue
        comment = _REST_COMMENT.match(line)
        if comment:
            new_paragraph()
            skip_above = len(comment.group(1))
            continue
        if _REST_UNDERLINE.match(line) or _REST_TABLE.match(line) or _REST_FIELD.match(line):
            new_paragraph()
            continue
        if stripped.startswith(">>>") and not paragraphs[-1]:
            in_doctest = True  # a doctest block runs to the next blank line
        if in_doctest:
            continue
        bullet = _REST_BULLET.match(line)
        # Mid-paragraph, '- x' is only a new item of a list the paragraph started with;
        # otherwise it is wrapped text ("a\n- b") that happens to begin with a dash.
        if bullet and paragraphs[-1] and list_indent != len(bullet.group(1)):
            bullet = None
        if bullet:
            new_paragraph()
            list_indent = len(bullet.group(1))
            line = line[bullet.end() :]
            stripped = line.strip()
        if stripped.endswith("::"):
            literal_next = True
            literal_indent = _indent(line) if not bullet else len(bullet.group(1))
            stripped = stripped[:-2].rstrip()
            if stripped and not stripped.endswith(":"):
                stripped += ":"
            if not stripped:
                continue
        paragraphs[-1].append(stripped)
    return [rest_inline(" ".join(lines)) for lines in paragraphs if lines]
