"""Rebuild the demo model's training corpus from pinned Debian packages.

Every byte comes from a .deb pinned by version and sha256 in `PACKAGES`; nothing is scraped.
Each source becomes one plain-prose UTF-8 file (paragraphs and documents separated by a blank
line) and `sources.json` records its package, licence, size in GPT-2 tokens and sampling weight.

    python -m export.corpus --out /work/corpus
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import hashlib
import html
import json
import re
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VOCAB = REPO / "models" / "demo" / "vocab.json"
MERGES = REPO / "models" / "demo" / "merges.txt"
DEFAULT_CACHE = Path.home() / ".cache" / "pyexplainer" / "debs"


@dataclass(frozen=True)
class Deb:
    """One pinned Debian package file (Debian 12 "bookworm")."""

    package: str
    version: str
    arch: str
    sha256: str

    @property
    def filename(self) -> str:
        # apt-get download writes the epoch colon URL-encoded.
        return f"{self.package}_{self.version.replace(':', '%3a')}_{self.arch}.deb"


PACKAGES: dict[str, Deb] = {
    deb.package: deb
    for deb in [
        Deb(
            "sword-text-web",
            "426.0-1",
            "all",
            "930b23670b352f0829a306501de4bebb5e654a2df02cde2cbe86b802177868e1",
        ),
        Deb(
            "python3.11-doc",
            "3.11.2-6+deb12u9",
            "all",
            "5b3594189d6ef9a6963ce0347fd307a1cc67620ad697e144db366070e2e146be",
        ),
        Deb(
            "bible-kjv-text",
            "4.38",
            "all",
            "d61b6aad4c51ba9e2800b825325fa6a09e99a0d02a9bb6dc4724fcc4995a1b7a",
        ),
        Deb(
            "bible-kjv",
            "4.38",
            "amd64",
            "75a49c032a6efa9faa2beb4a9acb70974380122906329d0e100de36cc88ff02d",
        ),
        Deb(
            "jargon-text",
            "4.4.7-4.1",
            "all",
            "17d05997e30eb3d5d6713929b8e2f81b63a5f50073858ad2a06701c71f54dcdb",
        ),
        Deb(
            "debian-handbook",
            "11.20220922",
            "all",
            "3d5dbeac1f1afc9c094eab9d0f701f6ecff99c4927d5a4794cf6c85678134faa",
        ),
        Deb(
            "debian-reference-en",
            "2.100",
            "all",
            "9f31d3a17df505de09689ca255512ea58c1fc47c59bb1b0c7bf1c23362e9743f",
        ),
        Deb(
            "gnu-standards",
            "2022.03.23-0.1",
            "all",
            "2087dda531c69d8505856a45e0334746f3f25211a237c95d375eed13a7d8c201",
        ),
        Deb(
            "wordnet-base",
            "1:3.0-37",
            "all",
            "61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752",
        ),
        Deb(
            "sqlite3-doc",
            "3.40.1-2+deb12u2",
            "all",
            "466e30d7066e2641fa13e56bc662a2ad521b8cc9c17dde9c9dac3d4f105e32f2",
        ),
        Deb(
            "python-django-doc",
            "3:3.2.25-0+deb12u7",
            "all",
            "87307f067916df72e17180d35b7cde5c7ea6080336cda518efd7f6e66988a7ca",
        ),
        Deb(
            "postgresql-doc-15",
            "15.20-0+deb12u1",
            "all",
            "4c44bf2c599f208b3f46454a6cf7a72e25ec46ff74d37b59dd31ad76b00eebb7",
        ),
    ]
}


# ---------------------------------------------------------------------------
# Text cleaning: pure functions from markup to paragraphs.
# ---------------------------------------------------------------------------

MIN_WORDS = 6  # paragraphs shorter than this are headings, captions or boilerplate
MIN_PROSE = 0.5  # paragraphs with fewer plain words than this are code, paths or link lists
_PLAIN_WORD = re.compile(r"^[(\"“‘']?[A-Za-z][a-z'’-]*[)\"”’',.;:!?]*$")


SHORT_WORDS = 12  # a paragraph this short must end like a sentence, else it is a heading


def is_prose(words: list[str], min_words: int = MIN_WORDS) -> bool:
    """Long enough, mostly plain words (not identifiers, paths and symbols), and, when short,
    ending like a sentence rather than a heading."""
    if len(words) < min_words:
        return False
    if len(words) < SHORT_WORDS and not words[-1].endswith(tuple('.!?:;"”’)')):
        return False
    plain = sum(1 for w in words if _PLAIN_WORD.match(w))
    return plain >= MIN_PROSE * len(words)


def clean_paragraphs(paragraphs: Iterable[str], min_words: int = MIN_WORDS) -> list[str]:
    """Collapse whitespace inside each paragraph and drop what is not prose."""
    kept = []
    for paragraph in paragraphs:
        words = paragraph.split()
        if is_prose(words, min_words):
            kept.append(" ".join(words))
    return kept


def join_document(paragraphs: Iterable[str], min_words: int = MIN_WORDS) -> str:
    """Cleaned paragraphs separated by blank lines ('' when nothing is left)."""
    return "\n\n".join(clean_paragraphs(paragraphs, min_words))


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


_OSIS_DROP = re.compile(r"<(note|title)\b[^>]*?(?<!/)>.*?</\1>", re.S)
_OSIS_BREAK = re.compile(
    r"<(?:div|chapter|lg|p|list|item)\b[^>]*>|</(?:div|chapter|lg|p|list|item)>"
    r"|<milestone\b[^>]*type=\"x-p\"[^>]*/>"
)


def osis_to_paragraphs(xml: str) -> list[str]:
    """Raw paragraphs of OSIS markup: notes and headings dropped, divisions become breaks."""
    text = _OSIS_DROP.sub(" ", xml)
    text = _OSIS_BREAK.sub("\n\n", text)
    text = re.sub(r"<[^>]*>", " ", text)  # words (<w lemma=...>), lines, names: keep the text
    text = html.unescape(text)
    # Removing tags leaves spaces before punctuation ("word ,"); put them back.
    text = re.sub(r"[ \t]+([,.;:!?’”)])", r"\1", text)
    text = re.sub(r"([“‘(])[ \t]+", r"\1", text)
    return re.split(r"\n\s*\n", text)


def sword_ztext_blocks(index: bytes, data: bytes) -> list[str]:
    """Decompress the blocks of a SWORD zText testament (.bzs index, .bzz data).

    The .bzs file is a little-endian array of (offset, compressed size, uncompressed size);
    each block is zlib-compressed UTF-8 OSIS. With BlockType=BOOK one block is one book.
    """
    blocks = []
    for i in range(0, len(index), 12):
        offset, size, _ = struct.unpack_from("<III", index, i)
        blocks.append(zlib.decompress(data[offset : offset + size]).decode("utf-8"))
    return blocks


_KJV_VERSE = re.compile(r"^([1-3]?[A-Za-z]+)(\d+):(\d+) (.*)$")


def kjv_chapters(bible_output: str) -> list[str]:
    """Group `bible` program output ('Ge1:1 In the beginning...') into one paragraph per chapter."""
    chapters: dict[tuple[str, str], list[str]] = {}
    for line in bible_output.splitlines():
        verse = _KJV_VERSE.match(line)
        if verse:
            chapters.setdefault((verse.group(1), verse.group(2)), []).append(verse.group(4))
        elif line.strip() and chapters:
            next(reversed(chapters.values())).append(line.strip())  # wrapped continuation
    return [" ".join(verses) for verses in chapters.values()]


_JARGON_ENTRY = re.compile(r"^:([^:]+):\s*(.*)$", re.S)


def jargon_paragraphs(text: str) -> list[str]:
    """Raw paragraphs of the Jargon File text: entry headwords are folded into their first
    paragraph ('crumb (n.): Two binary digits') and {cross-reference} braces dropped."""
    paragraphs = []
    headword = ""
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(block.split()).replace("{", "").replace("}", "")
        entry = _JARGON_ENTRY.match(block)
        if entry:
            word, rest = entry.groups()
            headword = f"{word} ({rest.strip(' ,')})" if rest.strip(" ,") else word
            continue
        if headword:
            block = f"{headword}: {block}"
            headword = ""
        paragraphs.append(block)
    return paragraphs


_WORDNET_POS = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}


def wordnet_glosses(data_file: str) -> list[str]:
    """One line per synset of a WordNet data.* file: 'dog, domestic dog (noun): a member of...'.

    A data line is 'offset lex_filenum ss_type w_cnt(hex) word lex_id ... | gloss';
    lines starting with two spaces are the licence header.
    """
    lines = []
    for line in data_file.splitlines():
        if line.startswith("  ") or "|" not in line:
            continue
        fields, gloss = line.split("|", 1)
        parts = fields.split()
        pos = _WORDNET_POS[parts[2]]
        count = int(parts[3], 16)
        words = [re.sub(r"\(.*\)$", "", parts[4 + 2 * i]).replace("_", " ") for i in range(count)]
        lines.append(f"{', '.join(words)} ({pos}): {gloss.strip()}")
    return lines


# ---------------------------------------------------------------------------
# Sources: where each one lives inside its package and how it becomes documents.
# ---------------------------------------------------------------------------


def _read(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    elif path.suffix == ".bz2":
        raw = bz2.decompress(raw)
    return raw.decode("utf-8", errors="replace")


def _files(root: Path, pattern: str) -> list[Path]:
    files = sorted(p for p in root.glob(pattern) if p.is_file())
    if not files:
        raise FileNotFoundError(f"no files match {pattern} under {root}")
    return files


def _html_documents(files: list[Path]) -> list[str]:
    return [join_document(html_to_paragraphs(_read(f))) for f in files]


def extract_web(roots: dict[str, Path]) -> tuple[list[str], int]:
    module = roots["sword-text-web"] / "usr/share/sword/modules/texts/ztext/engWEB2015eb"
    documents = []
    for testament in ("ot", "nt"):
        index = (module / f"{testament}.bzs").read_bytes()
        data = (module / f"{testament}.bzz").read_bytes()
        documents += [join_document(osis_to_paragraphs(b)) for b in sword_ztext_blocks(index, data)]
    return documents, 2


def extract_python_docs(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["python3.11-doc"] / "usr/share/doc/python3.11/html/_sources", "**/*.txt")
    return [join_document(rest_to_paragraphs(_read(f))) for f in files], len(files)


def extract_kjv(roots: dict[str, Path]) -> tuple[list[str], int]:
    # The text is in the program's own compressed format; its GPL reader (package bible-kjv)
    # runs unpacked, without installation.
    program = roots["bible-kjv"] / "usr/bin/bible"
    output = subprocess.run(
        [str(program), "-f", "-p", str(roots["bible-kjv-text"] / "usr/lib"), "gen1:1-rev22:21"],
        input="",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [join_document(kjv_chapters(output))], 1


def extract_jargon(roots: dict[str, Path]) -> tuple[list[str], int]:
    text = _read(roots["jargon-text"] / "usr/share/doc/jargon-text/jargon.txt.gz")
    return [join_document(jargon_paragraphs(text))], 1


def extract_handbook(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["debian-handbook"] / "usr/share/doc/debian-handbook/html/en-US", "*.html")
    return _html_documents(files), len(files)


def extract_debian_reference(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["debian-reference-en"] / "usr/share/debian-reference", "*.en.html")
    files = [f for f in files if f.name != "index.en.html"]  # the one-page copy of all chapters
    return _html_documents(files), len(files)


def extract_gnu_standards(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["gnu-standards"] / "usr/share/doc/gnu-standards", "*.html")
    return _html_documents(files), len(files)


def extract_sqlite_docs(roots: dict[str, Path]) -> tuple[list[str], int]:
    root = roots["sqlite3-doc"] / "usr/share/doc/sqlite3"
    # Keyword indexes, cross-reference tables and the site map are lists of links, not prose.
    skip = {"syntax", "keyword_index.html", "sitemap.html", "doclist.html", "toc.html"}
    files = [
        f
        for f in _files(root, "**/*.html")
        if f.relative_to(root).parts[0] not in skip and not f.name.startswith("doc_")
    ]
    return _html_documents(files), len(files)


def extract_django_docs(roots: dict[str, Path]) -> tuple[list[str], int]:
    root = roots["python-django-doc"] / "usr/share/doc/python-django-doc/html"
    skip = {"_modules", "genindex.html", "py-modindex.html", "search.html", "contents.html"}
    files = [f for f in _files(root, "**/*.html") if f.relative_to(root).parts[0] not in skip]
    return _html_documents(files), len(files)


def extract_postgresql_docs(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = _files(roots["postgresql-doc-15"] / "usr/share/doc/postgresql-doc-15/html", "*.html")
    return _html_documents(files), len(files)


def extract_wordnet(roots: dict[str, Path]) -> tuple[list[str], int]:
    files = [
        roots["wordnet-base"] / f"usr/share/wordnet/data.{pos}"
        for pos in ("adj", "adv", "noun", "verb")
    ]
    # Glosses are single lines; keep them one per line, 50 to a paragraph.
    documents = []
    for f in files:
        glosses = wordnet_glosses(_read(f))
        documents.append(
            "\n\n".join("\n".join(glosses[i : i + 50]) for i in range(0, len(glosses), 50))
        )
    return documents, len(files)


@dataclass(frozen=True)
class Source:
    name: str
    packages: tuple[str, ...]  # first one holds the text and its copyright file
    licence: str
    licence_marker: str  # a phrase that must appear in the copyright file
    extract: Callable[[dict[str, Path]], tuple[list[str], int]]  # -> (documents, files read)
    weight: float = 1.0


SOURCES: list[Source] = [
    Source("web", ("sword-text-web",), "public-domain", "in the Public Domain", extract_web),
    Source(
        "python_docs",
        ("python3.11-doc",),
        "PSF-2.0",
        "PYTHON SOFTWARE FOUNDATION LICENSE",
        extract_python_docs,
    ),
    # Early-modern English: sampled less so the model does not talk like 1611.
    Source(
        "kjv",
        ("bible-kjv-text", "bible-kjv"),
        "public-domain",
        "copyright for the King James",
        extract_kjv,
        weight=0.3,
    ),
    Source("jargon", ("jargon-text",), "public-domain", "is in the public domain", extract_jargon),
    Source(
        "debian_handbook",
        ("debian-handbook",),
        "GPL-2.0+ or CC-BY-SA-3.0",
        "GPL-2.0+ or CC-BY-SA-3.0",
        extract_handbook,
    ),
    Source(
        "debian_reference",
        ("debian-reference-en",),
        "GPL-2+",
        "License: GPL-2+",
        extract_debian_reference,
    ),
    Source(
        "gnu_standards",
        ("gnu-standards",),
        "GFDL-1.3+ (no invariant sections)",
        "GNU Free Documentation License",
        extract_gnu_standards,
    ),
    Source(
        "sqlite_docs",
        ("sqlite3-doc",),
        "public-domain",
        "License: public-domain",
        extract_sqlite_docs,
    ),
    Source(
        "django_docs",
        ("python-django-doc",),
        "BSD-3-Clause",
        "License: BSD-3-Clause",
        extract_django_docs,
    ),
    Source(
        "postgresql_docs",
        ("postgresql-doc-15",),
        "PostgreSQL",
        "License: PostgreSQL",
        extract_postgresql_docs,
    ),
    # A dictionary, not prose: useful vocabulary, but sampled less.
    Source(
        "wordnet",
        ("wordnet-base",),
        "WordNet-3.0",
        "WordNet 3.0 Copyright",
        extract_wordnet,
        weight=0.3,
    ),
]


# ---------------------------------------------------------------------------
# Packages: download, verify, unpack.
# ---------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_deb(deb: Deb, cache: Path) -> Path:
    """The verified .deb in `cache`, downloaded with apt-get if it is not there yet."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / deb.filename
    if not path.exists():
        result = subprocess.run(
            ["apt-get", "download", f"{deb.package}={deb.version}"],
            cwd=cache,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not path.exists():
            raise SystemExit(
                f"apt-get download {deb.package}={deb.version} failed:\n"
                f"{result.stdout}{result.stderr}"
            )
    actual = sha256_file(path)
    if actual != deb.sha256:
        raise SystemExit(
            f"sha256 mismatch for {path}:\n  expected {deb.sha256}\n"
            f"  actual   {actual}\nDelete the file to re-download, or update the pin."
        )
    return path


def unpack_deb(deb_path: Path, cache: Path) -> Path:
    """Extract a .deb (dpkg-deb -x, no installation) into the cache; reused when present."""
    root = cache / "unpacked" / deb_path.stem
    done = root / ".unpacked"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(deb_path), str(root)], check=True)
        done.touch()
    return root


def check_licence(root: Path, source: Source) -> Path:
    """The package's copyright file, after checking it states the licence we record."""
    copyright_file = root / "usr/share/doc" / source.packages[0] / "copyright"
    text = copyright_file.read_text(encoding="utf-8", errors="replace")
    if source.licence_marker.lower() not in text.lower():
        raise SystemExit(
            f"{copyright_file} no longer says {source.licence_marker!r}; "
            f"re-check the licence of {source.name}."
        )
    return copyright_file


# ---------------------------------------------------------------------------
# Corpus assembly.
# ---------------------------------------------------------------------------


def gpt2_tokenizer():
    """The demo model's byte-level BPE (GPT-2 vocabulary)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tokenizer = Tokenizer(models.BPE.from_file(str(VOCAB), str(MERGES)))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def count_tokens(text: str, tokenizer) -> int:
    """GPT-2 tokens in `text`, encoded in chunks cut before each blank line.

    Cuts fall only between a non-space and exactly '\\n\\n' followed by a non-space, where
    GPT-2 pre-tokenization splits anyway ('x', '\\n', '\\n', 'y'), so the sum is exact.
    """
    chunks = re.split(r"(?<=\S)(?=\n\n\S)", text)
    size = 2000  # chunks per batch
    return sum(
        len(encoding.ids)
        for i in range(0, len(chunks), size)
        for encoding in tokenizer.encode_batch(chunks[i : i + size], add_special_tokens=False)
    )


def source_record(
    source: Source, debs: dict[str, Deb], *, files: int, documents: int, text: str, tokens: int
) -> dict:
    """The sources.json entry of one source."""
    deb = debs[source.packages[0]]
    return {
        "name": source.name,
        "file": f"{source.name}.txt",
        "package": deb.package,
        "version": deb.version,
        "packages": {p: debs[p].version for p in source.packages},
        "licence": source.licence,
        "licence_file": f"deb://{deb.package}_{deb.version}/usr/share/doc/{deb.package}/copyright",
        "licence_copy": f"licences/{deb.package}.copyright",
        "files": files,
        "documents": documents,
        "characters": len(text),
        "tokens": tokens,
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "weight": source.weight,
    }


def build_corpus(
    out_dir: Path | str, *, cache: Path = DEFAULT_CACHE, sources: list[Source] = SOURCES
) -> dict:
    """Download, clean and write every source to `out_dir`; return the sources.json content."""
    out = Path(out_dir)
    (out / "licences").mkdir(parents=True, exist_ok=True)
    tokenizer = gpt2_tokenizer()
    records = []
    for source in sources:
        started = time.perf_counter()
        roots = {p: unpack_deb(fetch_deb(PACKAGES[p], cache), cache) for p in source.packages}
        copyright_file = check_licence(roots[source.packages[0]], source)
        shutil.copyfile(copyright_file, out / "licences" / f"{source.packages[0]}.copyright")
        documents, files = source.extract(roots)
        documents = [d for d in documents if d]
        text = "\n\n".join(documents) + "\n"
        (out / f"{source.name}.txt").write_text(text, encoding="utf-8")
        record = source_record(
            source,
            PACKAGES,
            files=files,
            documents=len(documents),
            text=text,
            tokens=count_tokens(text, tokenizer),
        )
        records.append(record)
        print(
            f"{source.name:18} {record['tokens']:>10,} tokens  "
            f"{time.perf_counter() - started:5.1f}s",
            flush=True,
        )
    manifest = {
        "description": "Demo-model corpus rebuilt from Debian packages by export/corpus.py",
        "total_tokens": sum(r["tokens"] for r in records),
        "sources": records,
    }
    (out / "sources.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where .debs are kept")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    manifest = build_corpus(args.out, cache=args.cache)
    print(
        f"total {manifest['total_tokens']:,} tokens in {time.perf_counter() - started:.0f}s "
        f"-> {args.out}"
    )


if __name__ == "__main__":
    main()
