"""The benchmarks, CPython only (the site ships none of this; like export/, it is part of the
source checkout and runs from the repository root):

    python -m pyexplainer bench --site DIR   the built site in headless Chromium (bench.browser)
    python -m bench.cpython                  export and inference in CPython (bench.cpython)
    python -m pyexplainer smoke DIR          the deploy's smoke test: every model of a built site
                                             in headless Chromium against CPython (bench.smoke)

The browser benchmark by concern: chromium (the browser it launches), site (the site, its
counting server, the GPT-2-small-sized sites it builds), page (visits and actions on the page),
interactions (redraws: clicks, typing, the temperature slider dragged), memory (peak resident
memory from /proc, peak JS heap), targets (what each figure is held to and what it measures),
report (the JSON), browser (one run, and the command line).
"""

import sys


class BenchError(Exception):
    """The benchmark cannot go on; the message says why."""


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
