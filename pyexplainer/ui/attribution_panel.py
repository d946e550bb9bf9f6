"""The attribution stage drawn from views.attribution: the largest parts said in words, the
ranked bars (positive to the right of the axis, negative to the left), each block's sum as a
small chart beside what the logit lens reads after each block, and the check that the parts add up
to the model's own logit.

The bars and the chart are one piece of markup each, from numbers and the catalogue's words
(escaped by ui.dom.markup); the tokens' labels go into the sentences as text."""

from __future__ import annotations

from pyexplainer.messages import format_number, text
from pyexplainer.ui.dom import fill_with_markup, make, make_svg, markup
from pyexplainer.ui.panel_parts import computing_panel
from pyexplainer.views.attribution import (
    FILTERS,
    AttributionChoice,
    AttributionView,
    LensLink,
    PartBar,
)

CHART_WIDTH = 320  # px of the per-block chart
CHART_HEIGHT = 90  # px of the bars; the block numbers go below
LABEL_HEIGHT = 14
MARK_HEIGHT = 10  # below the block numbers: a dot where the logit lens has the token on top
CHART_GAP = 2  # px between two blocks' bars
FILTER_LABELS = {
    "all": "attribution.filter_all",
    "heads": "attribution.filter_heads",
    "mlps": "attribution.filter_mlps",
}


def signed(value: float, locale: str) -> str:
    """+3.100 or −0.250: a contribution with its sign always shown."""
    return ("+" if value >= 0 else "−") + format_number(abs(value), locale, 3)


PART_LABELS = {
    "embed": "attribution.part_embed",
    "head": "attribution.part_head",
    "attn_bias": "attribution.part_attn_bias",
    "mlp": "attribution.part_mlp",
    "lnf_bias": "attribution.part_lnf_bias",
}


def part_label(bar: PartBar, locale: str) -> str:
    """What a part is called on the page: "block 9, head 6", "block 3, MLP", ..."""
    return text(PART_LABELS[bar.kind], locale, block=bar.layer, head=bar.head)


def named_sentences(view: AttributionView, target: str, other: str, locale: str) -> list[str]:
    """The largest positive parts in words: "block 9, head 6 adds +3.100 to ' Paris'"."""
    key = "attribution.named_difference" if view.other is not None else "attribution.named"
    return [
        text(
            key,
            locale,
            part=part_label(bar, locale),
            value=signed(bar.value, locale),
            token=target,
            other=other,
        )
        for bar in view.named
    ]


def bars_markup(view: AttributionView, locale: str) -> str:
    """The ranked parts as list items: data-component names the part, data-value holds its
    contribution with every digit (repr), a head or an MLP opens its stage when clicked."""
    items = []
    for bar in view.bars:
        label = part_label(bar, locale)
        side = "positive" if bar.value >= 0 else "negative"
        opens = bar.kind in ("head", "mlp")
        items.append(
            markup(
                "li",
                "",
                markup("span", label, class_="part-name"),
                markup(
                    "span",
                    "",
                    markup("span", "", class_=f"part-bar {side}", style=bar_style(bar)),
                    class_="part-axis",
                ),
                markup("span", signed(bar.value, locale), class_="part-value"),
                class_="attribution-part" + (" opens" if opens else ""),
                data_action="open-part" if opens else None,
                data_component=bar.name,
                data_value=repr(bar.value),
                data_kind=bar.kind,
                data_layer=bar.layer,
                data_head=bar.head,
                tabindex="0" if opens else None,
                role="button" if opens else None,
                title=text("attribution.bar_title", locale, part=label, value=bar.value),
            )
        )
    return "".join(items)


def bar_style(bar: PartBar) -> str:
    """Half the axis is the largest |contribution| shown; a bar grows from the middle."""
    half = 50 * bar.width
    left = 50 if bar.value >= 0 else 50 - half
    return f"left:{left:.2f}%;width:{half:.2f}%"


def blocks_markup(view: AttributionView, link: LensLink | None, locale: str) -> str:
    """Each block's parts added up, as SVG bars around a zero line (which depth decides), and
    under each block a dot where the logit lens has the target on top after it."""
    sums = view.per_block
    largest = max(float(abs(sums).max()), 1e-12)
    width = CHART_WIDTH / len(sums)
    middle = CHART_HEIGHT / 2
    shapes = [markup("line", "", x1="0", x2=str(CHART_WIDTH), y1=f"{middle}", y2=f"{middle}")]
    for block, value in enumerate(sums):
        height = middle * abs(float(value)) / largest
        shapes.append(
            markup(
                "rect",
                "",
                markup(
                    "title",
                    text("attribution.block_title", locale, block=block, value=float(value)),
                ),
                x=f"{block * width + CHART_GAP / 2:.1f}",
                y=f"{middle - height if value >= 0 else middle:.1f}",
                width=f"{max(width - CHART_GAP, 1):.1f}",
                height=f"{height:.1f}",
                class_="positive" if value >= 0 else "negative",
                data_block=block,
                data_value=repr(float(value)),
            )
        )
        shapes.append(
            markup(
                "text",
                str(block),
                x=f"{(block + 0.5) * width:.1f}",
                y=str(CHART_HEIGHT + LABEL_HEIGHT - 3),
                class_="chart-label",
                text_anchor="middle",
            )
        )
        if link is not None and link.on_top[block]:
            shapes.append(
                markup(
                    "circle",
                    "",
                    cx=f"{(block + 0.5) * width:.1f}",
                    cy=str(CHART_HEIGHT + LABEL_HEIGHT + MARK_HEIGHT / 2),
                    r="3",
                    class_="lens-top",
                    data_block=block,
                )
            )
    return "".join(shapes)


def lens_sentence(link: LensLink | None, target: str, locale: str) -> str:
    """The logit lens's reading beside the chart: from which block it has the token on top."""
    if link is None:
        return text("attribution.lens_pending", locale, token=target)
    if link.settled_block is None:
        return text("attribution.lens_never", locale, token=target)
    return text("attribution.lens_settled", locale, token=target, block=link.settled_block)


def check_line(view: AttributionView, locale: str) -> str:
    """The sum of the parts beside the model's own logit: two computations of one number."""
    return text(
        "attribution.check",
        locale,
        total=format_number(view.total, locale, 4),
        logit=format_number(view.model_logit, locale, 4),
        difference=f"{view.difference:.1e}",
    )


def token_options(tokens: list[tuple[int, str]], chosen: int | None, none_key: str | None, locale):
    """<option>s of (token id, label), the chosen one selected; first a "none" option (value
    "") when `none_key` names one."""
    items = [make("option", text(none_key, locale), value="")] if none_key else []
    items += [
        make("option", label, value=str(t), selected="" if t == chosen else None)
        for t, label in tokens
    ]
    return items


def controls(choice: AttributionChoice, target: int, tokens, locale: str):
    """The target and second token (the top predictions, and the target's own if typed), the
    filter, how many parts, and a box to type any token."""
    filters = [
        make(
            "option",
            text(FILTER_LABELS[f], locale),
            value=f,
            selected="" if f == choice.filter else None,
        )
        for f in FILTERS
    ]

    def labelled(key: str, field):
        return make("label", "", make("span", text(key, locale)), field)

    return make(
        "div",
        "",
        labelled(
            "attribution.target",
            make(
                "select",
                "",
                *token_options(tokens, target, None, locale),
                data_action="attribution-target",
            ),
        ),
        labelled(
            "attribution.other",
            make(
                "select",
                "",
                *token_options(tokens, choice.other, "attribution.no_other", locale),
                data_action="attribution-other",
            ),
        ),
        labelled(
            "attribution.filter", make("select", "", *filters, data_action="attribution-filter")
        ),
        labelled(
            "attribution.top",
            make(
                "input",
                type="number",
                min="1",
                step="1",
                value=str(choice.top),
                data_action="attribution-top",
            ),
        ),
        labelled(
            "attribution.typed",
            make("input", type="text", size="10", data_action="attribution-typed"),
        ),
        class_="attribution-controls",
    )


def attribution_panel(
    view: AttributionView,
    choice: AttributionChoice,
    labels: dict[int, str],
    link: LensLink | None,
    rounding_note: bool,
    locale: str,
):
    """The whole stage. labels: token id -> its label, for the top predictions, the target and
    the second token; link: the logit lens's reading of the target, once it is computed;
    rounding_note: the output layer rounds its input (WebAssembly, int8)."""
    target, other = labels[view.target], labels.get(view.other, "")
    tokens = list(labels.items())
    bars, chart = (
        make("ol", "", class_="attribution-parts"),
        make_svg(
            "svg",
            class_="attribution-blocks",
            viewBox=f"0 0 {CHART_WIDTH} {CHART_HEIGHT + LABEL_HEIGHT + MARK_HEIGHT}",
            role="img",
            aria_label=text("attribution.blocks_caption", locale, embed=signed(view.embed, locale)),
        ),
    )
    fill_with_markup(bars, bars_markup(view, locale))
    fill_with_markup(chart, blocks_markup(view, link, locale))
    return make(
        "section",
        "",
        make("h3", text("attribution.heading", locale)),
        make("p", text("attribution.explanation", locale), class_="note"),
        controls(choice, view.target, tokens, locale),
        make(
            "ul",
            "",
            *(make("li", s) for s in named_sentences(view, target, other, locale)),
            class_="attribution-named",
        ),
        make("p", text("attribution.shown", locale, shown=len(view.bars), total=view.shown_of)),
        bars,
        make(
            "figure",
            "",
            chart,
            make(
                "figcaption",
                text("attribution.blocks_caption", locale, embed=signed(view.embed, locale)),
            ),
        ),
        make(
            "p",
            "",
            make("span", lens_sentence(link, target, locale)),
            make(
                "button",
                text("attribution.open_lens", locale),
                class_="secondary small",
                data_action="open-stage",
                data_stage="lens",
            ),
            class_="attribution-lens",
            data_testid="attribution-lens",
            data_settled="" if link is None or link.settled_block is None else link.settled_block,
        ),
        make("p", check_line(view, locale), data_testid="attribution-check"),
        *[make("p", text("attribution.int8_note", locale), class_="note")] * rounding_note,
        class_="panel analysis",
        data_testid="attribution",
        data_state="ready",
        data_target_id=view.target,
        data_other_id="" if view.other is None else view.other,
        data_logit=repr(view.model_logit),
        data_total=repr(view.total),
    )


def attribution_pending(locale: str):
    """What the stage shows while the model runs the last token again."""
    return computing_panel("attribution.heading", "attribution.computing", "attribution", locale)
