"""Drawing what the page shows outside the open stage: the token chips, the prediction bars, the
overview, the cache line and the notes under them, from the session's trace."""

from __future__ import annotations

import js  # Pyodide only

from pyexplainer.messages import format_number, text
from pyexplainer.page import detail
from pyexplainer.ui.dom import document, element, fill, make
from pyexplainer.ui.overview import draw_overview
from pyexplainer.ui.tokens import reading_label, reading_note, token_chips, token_detail
from pyexplainer.views.characters import character_groups
from pyexplainer.views.overview import overview
from pyexplainer.views.predictions import SamplingSettings, output_view
from pyexplainer.views.tokens import token_views

SHOWN_PREDICTIONS = 15


def render(page) -> None:
    page.token_groups = character_groups(page.tokenizer, page.all_ids)
    page.token_list = token_views(
        page.tokenizer, page.text, page.prompt_ids, page.generated_ids, page.token_groups
    )
    render_tokens(page)
    render_check(page)
    render_recompute(page)
    render_generate_note(page)
    render_overview(page)
    detail.render_detail(page)
    render_predictions(page)  # last: a sampling setting that is not a number stops it


def render_tokens(page) -> None:
    views = page.tokens()
    fill(element("token-list"), *token_chips(page.token_groups, views, page.position, page.locale))
    element("token-detail").textContent = token_detail(
        page.token_groups, views, page.position, page.locale
    )
    element("cache-info").textContent = text(
        "ui.cache_info",
        page.locale,
        n_tokens=len(views),
        cached=page.trace.present_keys.shape[2],
        new=len(page.trace.input_ids),
    )


def render_predictions(page) -> None:
    if page.trace is None:
        return
    view = output_view(
        page.trace, page.tokenizer, settings(page), SHOWN_PREDICTIONS, pending=page.pending
    )
    rows = []
    for p in view.bars:
        if p.probability == 0:  # cut by top-k / top-p: it cannot be drawn
            continue
        bar = make("span", class_="bar")
        bar.style.width = f"{100 * p.probability:.2f}%"
        rows.append(
            make(
                "li",
                "",
                reading_label(p.reading, page.locale),
                bar,
                make(
                    "span",
                    format_number(p.probability, page.locale, 2, percent=True),
                    class_="prob",
                ),
                *filter(None, [reading_note(p.reading, page.locale)]),
                class_="prediction",
                tabindex="0",
                role="button",
                data_token_id=p.token_id,
                data_prob=repr(p.probability),
                title=text(
                    "output.bar_title",
                    page.locale,
                    probability=p.model_probability,
                    logit=p.logit,
                ),
            )
        )
    fill(element("prediction-list"), *rows)
    element("rest-of-vocabulary").textContent = text(
        "output.rest_mass",
        page.locale,
        probability=view.rest_probability,
        model_probability=view.rest_model_probability,
        kept=view.kept,
        vocab_size=view.vocab_size,
    )


def render_generate_note(page) -> None:
    key, values = page.generate_note or ("", {})
    element("generate-info").textContent = text(key, page.locale, **values) if key else ""


def render_overview(page) -> None:
    draw_overview(element("sankey"), overview(page.full), page.locale, page.stage)
    if page.show_flow_end:  # a model too wide for the frame: its end, next to the bars, first
        frame = document.querySelector(".sankey-frame")
        frame.scrollLeft = frame.scrollWidth
        page.show_flow_end = False
    element("sankey-legend").textContent = text("overview.legend", page.locale)


def render_check(page) -> None:
    started = js.performance.now()
    worst = max(
        page.trace.attention_mismatch(layer) for layer in range(page.manifest.config.n_layer)
    )
    page.timings["decompose_ms"] = js.performance.now() - started
    element("attention-check").textContent = text(
        "ui.attention_check", page.locale, difference=worst
    )


def render_recompute(page) -> None:
    values = page.recompute_values
    element("recompute-info").textContent = (
        text("output.recompute", page.locale, **values) if values else ""
    )


def render_context_note(page) -> None:
    key, values = page.context_note or ("", {})
    shown = text(key, page.locale, n_positions=page.config.n_positions, **values) if key else ""
    element("context-note").textContent = shown
    element("keep-last-tokens").hidden = key != "ui.too_long"


def say_context(page, note: tuple[str, dict] | None) -> None:
    """The note under the prompt: the text is too long for the context (with the offer to
    keep its last tokens), or how much keeping them dropped; None: nothing to say."""
    page.context_note = note
    render_context_note(page)


def settings(page) -> SamplingSettings:
    """The sampling settings as typed: the temperature from its number box (which the slider
    writes to, and which holds a link's value beyond the slider's end)."""

    def number(testid: str, name: str, kind):
        raw = element(testid).value
        try:
            return kind(raw)
        except ValueError:
            setting = text(f"ui.{name}", page.locale)
            raise ValueError(
                text("ui.not_a_number", page.locale, setting=setting, value=raw)
            ) from None

    return SamplingSettings(
        number("temperature-value", "temperature", float),
        number("top-k", "top_k", int),
        number("top-p", "top_p", float),
        banned=page.tokenizer.never_sampled,  # a BERT vocabulary's [CLS], [SEP], [PAD] ...
    )


def show_temperature(value: str) -> None:
    """Both temperature controls show `value`: the number box as it is, the slider at the
    nearest of its steps (a link's 3.5 leaves it at its end, 2)."""
    element("temperature-value").value = value
    element("temperature").value = value
