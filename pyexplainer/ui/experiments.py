"""Panels for the two experiments that run the model again: the logit lens and what-if ablation."""

from __future__ import annotations

from pyexplainer.config import ModelConfig
from pyexplainer.core.ablation import MODES, Ablation
from pyexplainer.messages import format_number, text
from pyexplainer.ui.dom import make
from pyexplainer.ui.panel_parts import computing_panel
from pyexplainer.views.colors import readable_text, sequential_rgba
from pyexplainer.views.logit_lens import LensCell, LogitLensView
from pyexplainer.views.whatif import WhatIfView

MODE_NAMES = {"zero": "whatif.mode.zero", "mean": "whatif.mode.mean"}  # core.ablation MODES


def percent(p: float, locale: str) -> str:
    return format_number(p, locale, 1, percent=True)


def scrolling_table(caption: str, head, rows, class_: str):
    """A table with a caption, one header row and body rows, scrolling sideways on its own."""
    table = make(
        "table",
        "",
        make("caption", caption),
        make("thead", "", head),
        make("tbody", "", *rows),
        class_=class_,
    )
    return make("div", "", table, class_="table-scroll")


def lens_cell(cell: LensCell, where: str, locale: str):
    """One depth x position (`where` names both): the top token and its probability; the top k
    on hover, or below the grid on a click or tap (a touch screen has no hover)."""
    r, g, b, _ = sequential_rgba(cell.probabilities[0])
    ink = readable_text((r, g, b))
    ranked = "\n".join(
        f"{label} {percent(p, locale)}"
        for label, p in zip(cell.labels, cell.probabilities, strict=True)
    )
    node = make(
        "td",
        "",
        make("span", cell.labels[0], class_="lens-token"),
        make("span", percent(cell.probabilities[0], locale), class_="lens-prob"),
        title=text("lens.cell_title", locale, where=where, ranked=ranked),
        data_depth=cell.depth,
        data_position=cell.position,
        data_token_id=cell.token_ids[0],
        data_prob=repr(cell.probabilities[0]),
        data_action="lens-cell",
        class_="next" if cell.is_next else None,
    )
    node.style.background = f"rgb({r},{g},{b})"
    node.style.color = "rgb({},{},{})".format(*ink)
    return node


def depth_name(depth: int, n_layers: int, locale: str) -> str:
    if depth == 0:
        return text("lens.depth_embeddings", locale)
    key = "lens.depth_final" if depth == n_layers else "lens.depth_block"
    return text(key, locale, block=depth - 1)


def settled(view: LogitLensView, locale: str) -> str:
    """Where the last position's final answer first reaches the top and stays there."""
    depth = view.settled_depth
    label = view.cells[-1][-1].labels[0]
    return text("lens.settled", locale, label=label, depth=depth_name(depth, view.n_layers, locale))


def logit_lens_panel(view: LogitLensView, locale: str):
    head = make(
        "tr",
        "",
        make("th", text("lens.corner", locale), scope="col"),
        *(make("th", t.label, scope="col", data_position=t.position) for t in view.tokens),
    )

    def where(depth: int, token: str) -> str:
        return text(
            "lens.where", locale, depth=depth_name(depth, view.n_layers, locale), token=token
        )

    rows = [
        make(
            "tr",
            "",
            make("th", depth_name(depth, view.n_layers, locale), scope="row"),
            *(
                lens_cell(cell, where(depth, token.label), locale)
                for cell, token in zip(row, view.tokens, strict=True)
            ),
        )
        for depth, row in enumerate(view.cells)
    ]
    return make(
        "section",
        "",
        make("h3", text("lens.heading", locale)),
        make("p", text("lens.explanation", locale), class_="note"),
        *(
            [
                make(
                    "p",
                    text(
                        "lens.last_positions",
                        locale,
                        shown=len(view.tokens),
                        total=view.n_text_tokens,
                    ),
                    class_="note",
                )
            ]
            if len(view.tokens) < view.n_text_tokens
            else []
        ),
        scrolling_table(text("lens.caption", locale), head, rows, "lens"),
        make("p", text("lens.legend", locale), class_="note"),
        make("p", "", class_="lens-detail", data_testid="lens-detail", aria_live="polite"),
        make("p", settled(view, locale), data_testid="lens-settled"),
        class_="panel analysis",
        data_testid="logit-lens",
        data_state="ready",
    )


def logit_lens_pending(locale: str):
    """What the lens tab shows while the model runs again."""
    return computing_panel("lens.heading", "lens.computing", "logit-lens", locale)


def ablation_choices(c: ModelConfig, ablation: Ablation, locale: str):
    """A block x head grid of switches, one MLP switch per block, and the kind of ablation."""

    def switch(label: str, off: bool, **attrs):
        box = make("input", type="checkbox", aria_label=label, **attrs)
        box.checked = off
        return make("td", "", box)

    head = make(
        "tr",
        "",
        make("th", text("ui.layer", locale), scope="col"),
        *(make("th", text("whatif.head", locale, head=h), scope="col") for h in range(c.n_head)),
        make("th", "MLP", scope="col"),
    )
    rows = [
        make(
            "tr",
            "",
            make("th", str(layer), scope="row"),
            *(
                switch(
                    text("whatif.head_switch", locale, layer=layer, head=h),
                    (layer, h) in ablation.heads,
                    data_action="ablate-head",
                    data_layer=layer,
                    data_head=h,
                )
                for h in range(c.n_head)
            ),
            switch(
                text("whatif.mlp_switch", locale, layer=layer),
                layer in ablation.mlps,
                data_action="ablate-mlp",
                data_layer=layer,
            ),
        )
        for layer in range(c.n_layer)
    ]
    modes = []
    for mode in MODES:
        radio = make(
            "input", type="radio", name="ablation-mode", value=mode, data_action="ablate-mode"
        )
        radio.checked = mode == ablation.mode
        modes.append(make("label", "", radio, make("span", text(MODE_NAMES[mode], locale))))
    return make(
        "div",
        "",
        scrolling_table(text("whatif.switches", locale), head, rows, "switches"),
        make("fieldset", "", make("legend", text("whatif.mode", locale)), *modes),
        make(
            "div",
            "",
            make(
                "button",
                text("whatif.run", locale),
                data_action="run-ablation",
                data_testid="ablation-run",
            ),
            make(
                "button",
                text("whatif.clear", locale),
                data_action="clear-ablation",
                class_="secondary",
            ),
            class_="actions",
        ),
    )


def ranked_list(rows, caption: str, probability_of, locale: str, *, was: bool = False):
    """Tokens with their probability (and with `was`, the probability they had before)."""

    def line(r) -> str:
        shown = f"{r.label}: {percent(probability_of(r), locale)}"
        return (
            shown + text("whatif.was", locale, before=percent(r.before, locale)) if was else shown
        )

    return make(
        "ol",
        "",
        *(
            make("li", line(r), data_token_id=r.token_id, data_prob=repr(probability_of(r)))
            for r in rows
        ),
        aria_label=caption,
    )


def ablation_summary(ablation: Ablation, locale: str) -> str:
    heads, mlps = sorted(ablation.heads), sorted(ablation.mlps)
    parts = [text("whatif.head_name", locale, layer=layer, head=h) for layer, h in heads]
    parts += [text("whatif.mlp_name", locale, layer=layer) for layer in mlps]
    if not parts:
        return text("whatif.nothing_off", locale)
    return text(
        "whatif.off",
        locale,
        parts=", ".join(parts),
        mode=text(MODE_NAMES[ablation.mode], locale),
    )


def what_if_result(view: WhatIfView, locale: str):
    top = view.top_token
    return make(
        "div",
        "",
        make("p", ablation_summary(view.ablation, locale)),
        make(
            "p",
            text(
                "whatif.top_change",
                locale,
                label=top.label,
                before=percent(top.before, locale),
                after=percent(top.after, locale),
                change=("+" if view.top_change >= 0 else "−")
                + format_number(abs(view.top_change), locale, 1, percent=True).rstrip("%"),
            ),
            data_testid="ablation-top-change",
            data_change=repr(view.top_change),
        ),
        make("p", text("whatif.top_changed" if view.top_changed else "whatif.top_kept", locale)),
        make("p", text("whatif.kl", locale, kl=f"{view.kl_nats:.4f}"), class_="note"),
        make(
            "div",
            "",
            make(
                "section",
                "",
                make("h4", text("whatif.before", locale)),
                ranked_list(view.before, text("whatif.before", locale), lambda r: r.before, locale),
                data_testid="ablation-before",
            ),
            make(
                "section",
                "",
                make("h4", text("whatif.after", locale)),
                ranked_list(
                    view.after, text("whatif.after", locale), lambda r: r.after, locale, was=True
                ),
                data_testid="ablation-after",
            ),
            class_="side-by-side",
        ),
        data_testid="ablation-result",
    )


def what_if_panel(c: ModelConfig, ablation: Ablation, result: WhatIfView | None, locale: str):
    return make(
        "section",
        "",
        make("h3", text("whatif.heading", locale)),
        make("p", text("whatif.explanation", locale), class_="note"),
        ablation_choices(c, ablation, locale),
        *([what_if_result(result, locale)] if result else []),
        class_="panel analysis",
        data_testid="ablation",
    )
