"""The model picker's behaviour: the first model a link asks for (with the advice before a
download the device may not hold), a button's model, a folder from the student's own disk (a
folder picker, or dropped anywhere on the page). Switching keeps the prompt, the open view and
the sampling settings; a model that fails to open leaves the running one running, and one whose
download broke off is named with a Retry button. ui.models draws the picker; the storage line
(ui.storage) is the picker's too."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json

import js  # Pyodide only
from pyodide.ffi import create_proxy
from pyscript.js_modules import prefetch  # web/prefetch.mjs: the first model's bytes

from pyexplainer.manifest import ModelFileError
from pyexplainer.messages import described, text
from pyexplainer.page import loading, queue, status
from pyexplainer.page.restore import restore
from pyexplainer.ui.dom import element
from pyexplainer.ui.download import BrokenDownload, fetch_bytes
from pyexplainer.ui.models import (
    ADVICE_REASONS,
    advice_values,
    device,
    draw_advice,
    draw_model_list,
    draw_note,
    draw_retry,
    entry_files,
)
from pyexplainer.ui.sources import DiskModel, SiteModel
from pyexplainer.ui.storage import Storage, stored_models
from pyexplainer.views import state as events
from pyexplainer.views.models import download_advice, model_folder, model_rows, resolve_model
from pyexplainer.views.permalink import state_for_model
from pyexplainer.views.stages import Stage
from pyexplainer.views.state_links import link_of

INDEX = "models/index.json"
# views.models Advice.reason -> the note once the student took the smaller model it offered
FELL_BACK = {"memory": "models.fell_back.memory", "save_data": "models.fell_back.save_data"}


class ModelPicker:
    """The picker of one page (pyexplainer.page.session.Page): what it lists, and the model the
    page asked for."""

    def __init__(self, page):
        self.page = page
        self.index: dict = {"models": []}
        self.stored: set[str] = set()
        self.advice = None  # views.models.Advice being shown
        self.choice: asyncio.Future | None = None  # the first model, while the student chooses
        self.note: tuple[str, dict] = ("", {})  # message key and values, redrawn on a locale
        self.storage = Storage(self)
        self.retry: tuple | None = None  # (the file, what Retry does) while a download is broken
        self._handlers = []

    # ------------------------------------------------------------------ the first model

    async def open_first(self, wanted: str, *, ask: bool = True) -> str:
        """Open the model a link names (the default when "" or unknown), asking first (unless
        not `ask`: embedded, the picker is not shown) when the device should not download it;
        returns the name asked for if the site has no such model, else ""."""
        self.bind()  # Retry, before anything can fail
        self.index = await self.read_index()
        entry, unknown = resolve_model(self.index, wanted)
        self.stored = await stored_models(self.index)
        name = entry["name"]
        if ask and self.advise(name):  # nothing starts until the student chooses
            advice = self.advice
            prefetch.drop()
            self.choice = asyncio.get_event_loop().create_future()
            status.show_status(self.page, "choose_model")
            name = await self.choice
            if name != advice.model:  # the one asked for, and why another runs, stay said
                self.set_note(FELL_BACK[advice.reason], running=name, **advice_values(advice))
        source = SiteModel(self.entry(name))
        prefetch.keepOnly(js.URL.new(source.base, js.location.href).href)  # a wrong guess
        try:
            await self.open_retrying(source)
        finally:
            prefetch.drop()  # what the model did not read
        self.render()
        self.storage.refresh_soon()
        return unknown

    async def read_index(self) -> dict:
        """models/index.json, the site's list of models; while it cannot be downloaded (the
        network, or the server's answer), name it and wait for Retry, as for a model file."""
        while True:
            try:
                return json.loads(await fetch_bytes(INDEX))
            except (BrokenDownload, ModelFileError) as e:
                await self.until_retried(e, INDEX)

    async def open_retrying(self, source) -> None:
        """Open the first model; while its download breaks off, name it and wait for Retry
        (nothing can run without a model)."""
        while True:
            try:
                return await loading.open_model(self.page, source)
            except BrokenDownload as e:
                await self.until_retried(e, e.source)

    async def until_retried(self, error: Exception, file: str) -> None:
        """Say what failed, name `file` with a Retry button, and return once it is pressed."""
        page = self.page
        status.show_error(page, text("ui.load_failed", page.locale, error=described(error)))
        retried = asyncio.get_event_loop().create_future()
        self.retry = (file, functools.partial(retried.set_result, None))
        self.render_retry()
        await retried
        status.show_status(page, "loading")

    def entry(self, name: str) -> dict:
        return next(m for m in self.index["models"] if m["name"] == name)

    def advise(self, name: str) -> bool:
        """Show why `name` should not download on this device, with the smaller model it offers;
        True when the page waits for the student's choice (there is a smaller one to offer)."""
        memory, save_data = device()
        rows = model_rows(self.index, self.stored, self.page.model_name)
        advice = download_advice(rows, name, device_memory_gib=memory, save_data=save_data)
        if advice is None:
            self.advice = None
            return False
        self.advice = advice
        if not advice.alternative:  # nothing better to offer: it starts, and the note says so
            self.advice = None
            self.set_note(ADVICE_REASONS[advice.reason], **advice_values(advice))
            return False
        element("model-picker").open = True
        self.render()
        return True

    # ------------------------------------------------------------------ events

    def bind(self) -> None:
        picker = element("model-picker")
        for target, event, handler in [
            (picker, "click", self.on_click),
            (picker, "toggle", self.on_toggle),
            (element("open-model-folder"), "change", self.on_folder),
            (element("retry-download"), "click", self.on_retry),
            (js.document, "dragover", self.on_dragover),
            (js.document, "drop", self.on_drop),
        ]:
            proxy = create_proxy(handler)
            self._handlers.append(proxy)
            target.addEventListener(event, proxy)
        self.storage.bind()

    def on_click(self, event) -> None:
        target = event.target.closest("[data-action]")
        if getattr(target, "dataset", None) is None:
            return
        action, name = target.dataset.action, target.getAttribute("data-model")
        if action == "open-folder":
            element("open-model-folder").click()
        elif action == "use-model":
            if not self.advise(name):
                self.decide(name)
        elif action == "model-choice":  # a button of the advice: the smaller model, or anyway
            self.advice = None
            self.render()
            self.decide(name)

    def decide(self, name: str) -> None:
        if self.choice is not None and not self.choice.done():
            self.choice.set_result(name)
        elif name != self.page.model_name or self.page.source.from_disk:
            self.start_switch(SiteModel(self.entry(name)))

    def start_switch(self, source) -> None:
        asyncio.ensure_future(queue.guarded(self.page, lambda: self.switch(source)))

    def on_toggle(self, _event=None) -> None:
        if element("model-picker").open:
            self.storage.refresh_soon()

    def on_folder(self, event) -> None:
        chosen = event.target
        files = [(str(f.webkitRelativePath or f.name), f) for f in js.Array.from_(chosen.files)]
        chosen.value = ""  # the same folder chosen again is a new change
        if files:
            asyncio.ensure_future(queue.guarded(self.page, lambda: self.open_folder(files)))

    def on_dragover(self, event) -> None:
        if event.dataTransfer and "Files" in list(event.dataTransfer.types):
            event.preventDefault()  # the drop comes to the page, not to the browser's file viewer

    def on_drop(self, event) -> None:
        """Read what was dropped now: the browser empties the drop's list once this returns."""
        transfer = event.dataTransfer
        if not transfer or "Files" not in list(transfer.types):
            return
        event.preventDefault()
        items = [i for i in js.Array.from_(transfer.items) if i.kind == "file"]
        entries = [i.webkitGetAsEntry() for i in items]
        files = [(str(f.name), f) for f in js.Array.from_(transfer.files)]
        if entries and all(entries):
            asyncio.ensure_future(queue.guarded(self.page, lambda: self.open_dropped(entries)))
        elif files:
            asyncio.ensure_future(queue.guarded(self.page, lambda: self.open_folder(files)))

    # ------------------------------------------------------------------ switching

    async def open_dropped(self, entries) -> None:
        found = []
        for entry in entries:
            found += await entry_files(entry)
        await self.open_folder(found)

    async def open_folder(self, files: list[tuple[str, object]]) -> None:
        """Run the exported model among `files` ((path, File) as opened), checked as the site's."""
        try:
            folder, names = model_folder([path for path, _ in files])
        except Exception as e:
            self.failed("models.folder_not_opened", e)
            raise
        by_path = dict(files)
        await self.switch(DiskModel(folder, {n: by_path[p] for n, p in names.items()}))

    async def switch(self, source) -> None:
        """Run `source`'s model in place of the page's: the prompt in the box, the sampling
        settings and the open view kept (the view as near as the new model has it)."""
        page = self.page
        state = dataclasses.replace(
            link_of(page.state), prompt=str(element("prompt-input").value), generated=()
        )
        self.set_note("")
        self.retry = None  # another model chosen: the broken one is not retried
        try:
            await loading.open_model(page, source)
        except Exception as e:
            key = "models.folder_not_opened" if source.from_disk else "models.not_opened"
            self.failed(key, e, name=source.name)
            if isinstance(e, BrokenDownload):
                self.offer_retry(e, lambda: self.start_switch(source))
            raise
        finally:
            self.render()
            self.storage.refresh_soon()
        state, missing = state_for_model(
            dataclasses.replace(state, model=page.model_name), page.config
        )
        page.state = events.head_picked(
            events.stage_opened(page.state, Stage.of(state.stage)), state.head
        )  # the new model has them, even if its run fails
        if missing:
            c = page.config
            self.set_note(
                "models.view_missing",
                model=page.model_name,
                part=missing.part,
                n_layer=c.n_layer,
                n_head=c.n_head,
            )
        await restore(page, state)

    def offer_retry(self, error: BrokenDownload, again) -> None:
        """Name the file whose download broke off; Retry calls again()."""
        self.retry = (error.source, again)
        self.render_retry()

    def on_retry(self, _event=None) -> None:
        retry, self.retry = self.retry, None
        self.render_retry()
        if retry is not None:
            retry[1]()

    def failed(self, key: str, error: Exception, **values) -> None:
        self.set_note(key, error=described(error), running=self.page.model_name, **values)

    # ------------------------------------------------------------------ drawing

    def set_note(self, key: str, **values) -> None:
        self.note = (key, values)
        self.render_note()

    def render_note(self) -> None:
        draw_note(self.note, self.page.locale)

    def render(self) -> None:
        locale = self.page.locale
        on_disk = self.page.source is not None and self.page.source.from_disk
        running = "" if on_disk else self.page.model_name
        draw_model_list(model_rows(self.index, self.stored, running), locale)
        self.render_advice(locale)
        self.render_note()
        self.render_retry()
        self.storage.render()

    def render_retry(self) -> None:
        draw_retry(None if self.retry is None else self.retry[0], self.page.locale)

    def render_advice(self, locale: str) -> None:
        advice = self.advice
        alternative = None if advice is None else self.entry(advice.alternative)
        draw_advice(advice, alternative, self.page.model_name, locale)
