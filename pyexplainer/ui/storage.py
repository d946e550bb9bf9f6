"""The site's storage for offline use, in the model information: what this device keeps of the
site (its caches, against the browser's quota), whether the browser refused to store a file
(the service worker reports how every cache.put ended, build/sw.js; web/boot.mjs keeps the
reports that come before Python runs), and a button that frees it all (views.storage words
it). The model picker's "stored for offline use" follows what is in the caches."""

from __future__ import annotations

import asyncio

import js  # Pyodide only
from pyodide.ffi import create_proxy

from pyexplainer.messages import text
from pyexplainer.ui.dom import element
from pyexplainer.views.storage import Space, StoreReport, refused, storage_line

CACHE_PREFIX = "pyexplainer-"  # build/sw.js names its caches so, one per build


def store_reports() -> list[StoreReport]:
    """Every report of the service worker this tab has heard, oldest first."""
    kept = getattr(js, "pyexplainerStoreReports", None)  # none without a service worker
    if kept is None:
        return []
    return [StoreReport(str(r.url), str(r.error or "")) for r in js.Array.from_(kept)]


def controlled() -> bool:
    """Whether a service worker controls this page (it keeps the site for offline use)."""
    worker = getattr(js.navigator, "serviceWorker", None)
    return bool(worker and worker.controller)


async def stored_models(index: dict) -> set[str]:
    """The site's models whose every file the service worker has in Cache Storage."""
    if not hasattr(js, "caches"):  # not a secure context: no service worker either
        return set()
    stored = set()
    for m in index["models"]:
        for name in m["files"]:
            if not await js.caches.match(js.URL.new(m["path"] + name, js.location.href).href):
                break
        else:
            stored.add(m["name"])
    return stored


async def site_caches() -> list[str]:
    if not hasattr(js, "caches"):  # not a secure context: no Cache Storage
        return []
    return [str(n) for n in js.Array.from_(await js.caches.keys()) if n.startswith(CACHE_PREFIX)]


async def site_space() -> Space:
    """The site's cached files (counted by their requests) and bytes, as the browser accounts
    them (navigator.storage.estimate: Chromium's usageDetails.caches, elsewhere the usage of the
    whole origin, which keeps nothing but these caches). No cached body is read: measuring each
    compressed file's body (Pyodide's and onnxruntime's WebAssembly) on every refresh held those
    bodies in the tab, 0.28 GB of renderer memory at its peak with the demo model."""
    files = 0
    for name in await site_caches():
        files += int((await (await js.caches.open(name)).keys()).length)
    storage = getattr(js.navigator, "storage", None)
    if storage is None:
        return Space(files, 0, None)
    estimate = await storage.estimate()
    details = getattr(estimate, "usageDetails", None)
    used = getattr(details, "caches", None) if details is not None else None
    size = int((used if used is not None else estimate.usage) or 0)
    # with no file left, what the browser still counts is its own bookkeeping, not the site's
    return Space(files, size if files else 0, float(estimate.quota or 0) or None)


class Storage:
    """The storage line of one page's model picker (pyexplainer.page.model_picker.ModelPicker)."""

    def __init__(self, picker):
        self.picker = picker
        self.space: Space | None = None  # until the caches are first measured
        self.freed: int | None = None  # bytes freed this visit
        self.seen = 0  # reports before this one came before the last free
        self.dirty = self.refreshing = False
        self._handlers = []

    def bind(self) -> None:
        worker = getattr(js.navigator, "serviceWorker", None)
        targets = [(element("free-storage"), "click", self.on_free)]
        if worker:
            targets.append((worker, "message", self.on_message))
        for target, event, handler in targets:
            proxy = create_proxy(handler)
            self._handlers.append(proxy)
            target.addEventListener(event, proxy)

    def on_message(self, event) -> None:
        if getattr(event.data, "pyexplainerStored", None) is not None:
            self.refresh_soon()

    def on_free(self, _event=None) -> None:
        asyncio.ensure_future(self.free())

    def refresh_soon(self) -> None:
        """Measure again and redraw, once more after a measure under way (a burst of reports
        costs two, not one each)."""
        self.dirty = True
        if not self.refreshing:
            self.refreshing = True
            asyncio.ensure_future(self.refresh_while_dirty())

    async def refresh_while_dirty(self) -> None:
        try:
            while self.dirty:
                self.dirty = False
                await self.refresh()
        finally:
            self.refreshing = False

    async def refresh(self) -> None:
        self.space = await site_space()
        stored = await stored_models(self.picker.index)
        if stored != self.picker.stored:
            self.picker.stored = stored
            self.picker.render()  # which draws this line too
        else:
            self.render()

    async def free(self) -> None:
        """Delete every cache of the site (the stored models, and the app itself): the page
        runs on from memory; the next visit downloads and stores it again."""
        element("free-storage").disabled = True
        freed = (await site_space()).bytes
        for name in await site_caches():
            await js.caches.delete(name)
        self.seen, self.freed = len(store_reports()), freed
        self.refresh_soon()

    def render(self) -> None:
        page = self.picker.page
        on_disk = page.source is not None and page.source.from_disk
        model = "" if on_disk else page.model_name
        state, sentences = storage_line(
            controlled=controlled(),
            refusals=refused(store_reports()[self.seen :]),
            model=model,
            model_stored=model in self.picker.stored,
            freed=self.freed,
            space=self.space,
        )
        line = element("storage-info")
        line.textContent = " ".join(text(key, page.locale, **values) for key, values in sentences)
        line.dataset.state = state
        # the line is in the picker, closed most of the time: its summary says the warning
        element("storage-warning").hidden = state not in ("refused", "unavailable")
        element("free-storage").disabled = not (self.space and self.space.files)
