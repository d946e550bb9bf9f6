"""python -m export.corpus --out DIR [--cache DIR]: the corpus rebuilt into DIR (see
export/corpus/__init__.py); a failure is said on stderr, with exit status 1."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from export.corpus.assembly import build_corpus
from export.corpus.packages import DEFAULT_CACHE, CorpusError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m export.corpus",
        description="Rebuild the demo model's training corpus from pinned Debian packages.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where .debs are kept")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        manifest = build_corpus(args.out, cache=args.cache)
    except CorpusError as e:
        print(f"corpus: {e}", file=sys.stderr)
        return 1
    print(
        f"total {manifest['total_tokens']:,} tokens in {time.perf_counter() - started:.0f}s "
        f"-> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
