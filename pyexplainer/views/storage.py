"""What the page says about keeping the site for offline use, as plain data: which files the
browser refused to store (the service worker reports how every cache.put ended, build/sw.js),
and the storage line of the model information. No DOM: ui/storage.py reads the browser and
draws it."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

# A cache.put whose body broke off (the download failed, and the page names that failure
# itself, with Retry) rejects with one of these: the browser did not refuse to store anything.
BROKEN_BODY = frozenset({"TypeError", "AbortError", "NetworkError"})


@dataclasses.dataclass(frozen=True)
class StoreReport:
    """How the service worker's cache.put of one file ended."""

    url: str
    error: str  # "" when stored, else the browser's "Name: message" (QuotaExceededError: ...)


@dataclasses.dataclass(frozen=True)
class Space:
    """What the site keeps on the device: its caches' files and bytes, and the quota the
    browser allows it (navigator.storage.estimate; None where the browser does not say)."""

    files: int
    bytes: int
    quota: float | None


def refused(reports: list[StoreReport]) -> list[StoreReport]:
    """The files the browser would not store, in the order first reported; each file's last
    report counts (a later put that worked clears it). A body that broke off is the download's
    failure, not the storage's."""
    last = {r.url: r for r in reports}
    return [r for r in last.values() if r.error and r.error.split(":")[0] not in BROKEN_BODY]


def storage_line(
    *,
    controlled: bool,
    refusals: list[StoreReport],
    model: str,
    model_stored: bool,
    freed: int | None,
    space: Space | None,
) -> tuple[str, list[tuple[str, dict]]]:
    """The storage line: (state, its sentences as (message key, values)). `controlled`: a
    service worker controls the page (none in a private window, or with storage turned off);
    `model`: the running model's name ("" for a folder from disk, which the site never
    stores); `freed`: the bytes the student freed this visit, None if not; `space`: None until
    the caches are first measured (the line then claims no size: "0 MB kept" would be false).
    The states, for tests and tools: measuring, freed, unavailable, refused, stored, storing,
    kept."""
    if space is None:
        return "measuring", [("storage.measuring", {})]
    values = dict(model=model, mb=space.bytes / 1e6, files=space.files)
    if freed is not None and not space.files:
        state, key, values = "freed", "storage.freed", {**values, "freed_mb": freed / 1e6}
    elif not controlled:
        state, key = "unavailable", "storage.no_worker"
    elif refusals:
        first = refusals[0]
        state, key = "refused", "storage.refused"
        values.update(count=len(refusals), file=urlsplit(first.url).path, error=first.error)
    else:
        state, key = (
            ("kept", "storage.kept")
            if not model
            else ("stored", "storage.stored")
            if model_stored
            else ("storing", "storage.storing")
        )
    sentences = [(key, values)]
    # no quota beside a refusal: what the browser enforces there may not be what it tells
    # (navigator.storage.estimate), and without a worker the site stores nothing
    if space.quota and state not in ("unavailable", "refused"):
        sentences.append(("storage.quota", {"quota_mb": space.quota / 1e6}))
    return state, sentences
