"""An output folder written all or nothing, as the exporter and the site build write theirs: the
work goes into a fresh folder beside OUT, which takes OUT's place only once all of it is there,
so a failure leaves OUT as it was and no half-written folder behind. Neither replaces a folder
it did not make (one without its marker file): that may be the student's own."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path


def not_ours(out: Path, marker: str) -> bool:
    """Whether `out` holds files but not `marker`: a folder this tool did not make."""
    return out.exists() and any(out.iterdir()) and not (out / marker).is_file()


@contextlib.contextmanager
def folder_in_place_of(out: Path) -> Iterator[Path]:
    """A fresh folder beside `out` to write into; when the block ends without an error it
    replaces `out`, and either way it is gone afterwards."""
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
