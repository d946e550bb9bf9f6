"""Rebuild the demo model's training corpus from pinned Debian packages.

Every byte comes from a .deb pinned by version and sha256; nothing is scraped. Each source
becomes one plain-prose UTF-8 file (paragraphs and documents separated by a blank line) and
`sources.json` records its package, licence, size in GPT-2 tokens and sampling weight.

    python -m export.corpus --out /work/corpus

One module a job: packages.py downloads, checks and unpacks the packages; html_text.py,
rest_text.py and formats.py read the markup (HTML, reStructuredText, and the Bible's, the
Jargon File's and WordNet's formats) into raw paragraphs; cleaning.py keeps the prose of them;
sources.py says where each source lives and how it is read; assembly.py writes the corpus.
"""
