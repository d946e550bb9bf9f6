"""The model picker drawn: the site's models (views.models rows) with a button each, the advice
before a download the device may not hold, the note and the Retry box; and what the picker
reads from the browser (the device's memory, the files of a dropped folder). What the picker
does is pyexplainer.page.model_picker's."""

from __future__ import annotations

import js  # Pyodide only
from pyodide.ffi import create_once_callable

from pyexplainer.messages import text
from pyexplainer.ui.dom import element, fill, make
from pyexplainer.views.models import GIB, quality_facts, rows_for_locale, training_data

ADVICE_REASONS = {  # views.models Advice.reason -> why it advises against the download
    "memory": "models.advice.memory",
    "save_data": "models.advice.save_data",
}
FOLDER_DEPTH = 2  # a dropped folder is read this deep (the export and one folder inside it)


def device() -> tuple[float | None, bool]:
    """(navigator.deviceMemory in GiB, or None where the browser does not say; whether the
    browser asks to save data, navigator.connection.saveData)."""
    memory = getattr(js.navigator, "deviceMemory", None)
    connection = getattr(js.navigator, "connection", None)
    save_data = bool(getattr(connection, "saveData", False)) if connection else False
    return (float(memory) if memory else None), save_data


def promised(start):
    """A JS callback API as an awaitable: start(resolve, reject)."""
    return js.Promise.new(create_once_callable(start))


async def entry_files(entry, prefix: str = "", depth: int = 0) -> list[tuple[str, object]]:
    """(path, File) of a dropped file or folder (FileSystemEntry), folders FOLDER_DEPTH deep."""
    path = prefix + str(entry.name)
    if entry.isFile:
        return [(path, await promised(lambda ok, fail: entry.file(ok, fail)))]
    if depth >= FOLDER_DEPTH:
        return []
    reader, found = entry.createReader(), []
    while (batch := await promised(lambda ok, fail: reader.readEntries(ok, fail))).length:
        for child in js.Array.from_(batch):
            found += await entry_files(child, path + "/", depth + 1)
    return found


def advice_values(advice) -> dict:
    """The numbers an advice's messages name (views.models.Advice)."""
    return dict(
        model=advice.model,
        mb=advice.bytes / 1e6,
        estimate_gb=advice.estimate / GIB,
        device_gb=advice.device_bytes / GIB,
    )


def draw_note(note: tuple[str, dict], locale: str) -> None:
    """The picker's note: a message key and its values, or ("", {}) for none."""
    key, values = note
    element("model-note").textContent = text(key, locale, **values) if key else ""


def draw_model_list(rows: list, locale: str) -> None:
    """The site's models (views.models rows), those in `locale`'s language first."""
    fill(element("model-list"), *(model_row(r, locale) for r in rows_for_locale(rows, locale)))


def draw_retry(broken_file: str | None, locale: str) -> None:
    """The Retry box, naming the file whose download broke off; hidden for None."""
    box = element("download-broken")
    box.hidden = broken_file is None
    if broken_file is not None:
        message = text("models.download_broken", locale, file=broken_file)
        box.querySelector(".message").textContent = message


def model_row(r, locale: str):
    """One model of the list: its facts, whether it is stored or to download, its button."""
    facts = [
        text(
            "models.facts",
            locale,
            n_layer=r.n_layer,
            n_head=r.n_head,
            n_embd=r.n_embd,
            parameters_m=r.parameters / 1e6,
            quantization=r.quantization,
            n_positions=r.n_positions,
        )
    ]
    quality = quality_facts(r.quantization, r.fidelity, r.training)
    facts += [text(key, locale, **values) for key, values in quality]
    learned = training_data(r)
    if learned:
        facts.append(text(learned[0], locale, **learned[1]))
    state = "models.stored" if r.stored else "models.download"
    badges = [make("span", text(state, locale, mb=r.bytes / 1e6), class_="badge")]
    if r.running:
        badges.insert(0, make("span", text("models.running", locale), class_="badge running"))
    button = make(
        "button",
        text("models.use", locale),
        class_="secondary small",
        data_action="use-model",
        data_model=r.name,
        aria_label=text("models.use_label", locale, model=r.name),
    )
    return make(
        "li",
        "",
        make("p", "", make("strong", r.name), *badges, class_="model-name"),
        make("p", text("ui.facts_separator", locale).join(facts), class_="note"),
        *([] if r.running else [button]),
        class_="model-row",
        data_model=r.name,
        data_stored=str(r.stored).lower(),
        aria_current="true" if r.running else None,
    )


def draw_advice(advice, alternative: dict | None, running: str, locale: str) -> None:
    """Why a model should not download on this device (views.models.Advice), with a button for
    the smaller model it offers (`alternative`, its index entry; kept if it is the `running`
    one) and one to download anyway; hidden for no advice."""
    box = element("model-advice")
    box.hidden = advice is None
    if advice is None:
        box.replaceChildren()
        return
    keep = advice.alternative == running
    offer = text(
        "models.advice.keep" if keep else "models.advice.instead",
        locale,
        model=advice.alternative,
        mb=alternative["bytes"] / 1e6,
    )
    values = advice_values(advice)
    fill(
        box,
        make("p", text(ADVICE_REASONS[advice.reason], locale, **values)),
        make("button", offer, data_action="model-choice", data_model=advice.alternative),
        make(
            "button",
            text("models.advice.anyway", locale, **values),
            class_="secondary",
            data_action="model-choice",
            data_model=advice.model,
        ),
    )
