"""The corpus's parsers and cleaning (export/corpus/) on small inline samples (no apt, no
network), and a package that fails its check named in an error, not an exit."""

import struct
import zlib

import pytest

from export.corpus.assembly import count_tokens, gpt2_tokenizer, source_record
from export.corpus.cleaning import clean_paragraphs, join_document
from export.corpus.formats import (
    jargon_paragraphs,
    kjv_chapters,
    osis_to_paragraphs,
    sword_ztext_blocks,
    wordnet_glosses,
)
from export.corpus.html_text import html_to_paragraphs
from export.corpus.packages import PACKAGES, CorpusError, Deb, fetch_deb
from export.corpus.rest_text import rest_inline, rest_to_paragraphs
from export.corpus.sources import SOURCES

PROSE = "This sentence is long enough to be kept as a paragraph of prose."


def test_clean_paragraphs_collapses_whitespace_and_drops_non_prose():
    paragraphs = [
        "  This   sentence\n is long enough to be kept.  ",
        "Too short.",
        "1. A Heading That Does Not End Like a Sentence",
        "/usr/lib/x.so /usr/lib/y.so c3ref/a.html c3ref/b.html c3ref/c.html",
    ]
    assert clean_paragraphs(paragraphs) == ["This sentence is long enough to be kept."]


def test_html_keeps_prose_and_drops_code_tables_and_navigation():
    page = f"""<html><head><title>Title words here</title><style>p {{}}</style></head><body>
    <div class="navheader"><a href="x">Prev</a> words words words words words</div>
    <h1>A heading</h1>
    <p>{PROSE}<br>Second   line of the <code>same</code> paragraph &amp; more.</p>
    <pre>for i in range(10): print(i, i, i, i, i, i)</pre>
    <table><tr><td>cell one two three four five six</td></tr></table>
    <ul><li>An item that is also long enough to keep. <a href="https://postgr.es">§</a></li>
    <li>Short item</li></ul>
    <p>Unclosed paragraph with &eacute;nough words to be kept.
    </body></html>"""
    assert clean_paragraphs(html_to_paragraphs(page)) == [
        PROSE,
        "Second line of the same paragraph & more.",
        "An item that is also long enough to keep.",
        "Unclosed paragraph with énough words to be kept.",
    ]


def test_rest_inline_roles_literals_links_and_emphasis():
    text = (
        ":keyword:`!if` and :func:`~os.path.join` and :ref:`the tutorial <tut-if>`, "
        "``x = 1``, `Python <https://python.org>`_, *emphasis*, **strong**, :pep:`8`, "
        ":issue:`15114`, :gh:`98`"
    )
    assert rest_inline(text) == (
        "if and join and the tutorial, x = 1, Python, emphasis, strong, PEP 8, bpo-15114, gh-98"
    )


def test_rest_drops_directives_literals_doctests_and_titles():
    source = f""".. _label:

*****
Title
*****

{PROSE} For
example::

   x = int(input())
   print(x)

.. index::
   statement: for

.. note::

   A note body is prose that should be kept in the output.

>>> 1 + 1
2

.. function:: spam(eggs)
   :noindex:

   Return the spam made from *eggs*, which is a long sentence.

* A bulleted item with enough words to keep.
* A second item of the same list, also kept.

The result is ``(a.replace(tzinfo=None) -
- b.utcoffset())`` except that it never overflows.
+------+------+
| cell | cell |
+------+------+
"""
    assert join_document(rest_to_paragraphs(source)).split("\n\n") == [
        PROSE + " For example:",
        "A note body is prose that should be kept in the output.",
        "Return the spam made from eggs, which is a long sentence.",
        "A bulleted item with enough words to keep.",
        "A second item of the same list, also kept.",
        "The result is (a.replace(tzinfo=None) - - b.utcoffset()) except that it never overflows.",
    ]


def test_osis_drops_notes_and_titles_and_breaks_paragraphs():
    xml = (
        '<div type="book"><title type="main">Genesis</title><chapter osisID="Gen.1"/>'
        '<div sID="p1" type="x-p"/><w lemma="strong:H7225">In the beginning</w>, God created '
        'the heavens and the earth.<note placement="foot">Or, sky</note><div eID="p1" '
        'type="x-p"/> <div sID="p2" type="x-p"/>The earth was formless and empty, and '
        '“darkness</w> was on the surface.”<div eID="p2" type="x-p"/></div>'
    )
    assert clean_paragraphs(osis_to_paragraphs(xml)) == [
        "In the beginning, God created the heavens and the earth.",
        "The earth was formless and empty, and “darkness was on the surface.”",
    ]


def test_sword_ztext_blocks_reads_index_and_zlib_blocks():
    books = ["<w>first book</w>", "second book"]
    compressed = [zlib.compress(b.encode()) for b in books]
    data = b"".join(compressed)
    index = struct.pack("<III", 0, len(compressed[0]), len(books[0])) + struct.pack(
        "<III", len(compressed[0]), len(compressed[1]), len(books[1])
    )
    assert sword_ztext_blocks(index, data) == books


def test_kjv_chapters_groups_verses_and_strips_references():
    output = "Ge1:1 In the beginning.\nGe1:2 And the earth.\nGe2:1 Thus.\n1Jo1:1 That.\n"
    assert kjv_chapters(output) == ["In the beginning. And the earth.", "Thus.", "That."]


def test_jargon_folds_headword_into_definition():
    text = "   :crumb: n.\n\n   Two binary digits; a {quad}. Larger than a {bit}.\n"
    assert jargon_paragraphs(text) == ["crumb (n.): Two binary digits; a quad. Larger than a bit."]


def test_wordnet_glosses_from_data_lines():
    data = (
        "  1 This software and database is being provided to you\n"
        "02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 023 @ 02083346 n 0000 | "
        'a member of the genus Canis; "the dog barked all night"  \n'
        "00001740 00 a 01 able(p) 0 005 = 05207437 n 0000 | (usually followed by `to') having "
        "the necessary means  \n"
    )
    assert wordnet_glosses(data) == [
        "dog, domestic dog, Canis familiaris (noun): a member of the genus Canis; "
        '"the dog barked all night"',
        "able (adjective): (usually followed by `to') having the necessary means",
    ]


def test_count_tokens_in_chunks_equals_encoding_the_whole_text():
    tokenizer = gpt2_tokenizer()
    text = f"{PROSE}\n\n  Indented  text.\n\n\nThree newlines, then   spaces.\n\nEnd\n\n"
    assert count_tokens(text, tokenizer) == len(tokenizer.encode(text).ids)


def test_source_record_schema():
    kjv = next(s for s in SOURCES if s.name == "kjv")
    record = source_record(kjv, PACKAGES, files=1, documents=2, text="ab\n\ncd\n", tokens=5)
    assert record == {
        "name": "kjv",
        "file": "kjv.txt",
        "package": "bible-kjv-text",
        "version": PACKAGES["bible-kjv-text"].version,
        "packages": {"bible-kjv-text": "4.38", "bible-kjv": "4.38"},
        "licence": "public-domain",
        "licence_file": "deb://bible-kjv-text_4.38/usr/share/doc/bible-kjv-text/copyright",
        "licence_copy": "licences/bible-kjv-text.copyright",
        "files": 1,
        "documents": 2,
        "characters": 7,
        "tokens": 5,
        "sha256": "6d3e50c9495b4f62771198e14a2457af5c1cbaf6a733ccfeb26593fb90f72316",
        "weight": 0.3,
    }


def test_every_source_is_pinned_and_weighted():
    for source in SOURCES:
        assert all(p in PACKAGES for p in source.packages)
        assert 0 < source.weight <= 1
    assert all(len(deb.sha256) == 64 for deb in PACKAGES.values())


def test_a_package_whose_sha256_does_not_match_its_pin_is_an_error_not_an_exit(tmp_path):
    deb = Deb("example", "1.0-1", "all", "0" * 64)
    (tmp_path / deb.filename).write_bytes(b"not the pinned package")
    with pytest.raises(CorpusError, match="sha256 mismatch") as raised:
        fetch_deb(deb, tmp_path)
    assert not isinstance(raised.value, SystemExit)
