"""Attention as lines (views.attention_lines) drawn in SVG: the tokens of the block in two
columns, a line from the chosen token to each token it may attend to, one per shown head.

The chosen token is the page's (a click, a tap or Enter on a token on the left picks it); pointing
at a token or focusing it shows its lines without picking it, and leaving it shows the chosen
token's again, so only the lines are redrawn. The token labels are one tab stop (the chosen one):
arrow keys, Home and End move between them. Each head has a toggle button in its colour and dash.
Every line carries data-head, data-from, data-to and data-weight (the weight's repr) for tests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pyexplainer.messages import text
from pyexplainer.ui.dom import fill_with_markup, make, make_svg
from pyexplainer.ui.matrix import Matrices
from pyexplainer.views.attention_lines import (
    MAX_LINES,
    MAX_WIDTH,
    MIN_OPACITY,
    MIN_WIDTH,
    AttentionLinesView,
    HeadStyle,
    TokenLines,
    token_lines,
)

ROW = 20  # px per token row, both columns
LABEL_WIDTH = 150  # px of each column of labels
GAP = 170  # px between the columns, where the lines run
MAX_LABEL = 18  # characters of a token label; longer ones end in "…" (a left one's title has it)
FAN = 2.0  # px between the ends of two heads' lines at one token, so overlapping heads part
MOVES = {"ArrowUp": -1, "ArrowDown": 1, "ArrowLeft": -1, "ArrowRight": 1}


def row_y(position):
    """The centre line of a token's row (a position or an array of them)."""
    return position * ROW + ROW / 2


def short_label(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


class HeadView:
    """The head view on the page: what it was drawn from, so that a hover or a focus redraws
    only its lines."""

    def __init__(self):
        self.view: AttentionLinesView | None = None
        self.chosen = 0  # the page's token, whose lines show when no other is pointed at
        self.heads: tuple[int, ...] = ()
        self.shown_position: int | None = None  # whose lines are drawn now
        self.lines_group = None  # the <g> holding the lines
        self.labels: dict[int, object] = {}  # position -> its <text> in the left column
        self.scroll_box = None  # the element that scrolls a long text
        self.locale = "en"

    def panel(
        self,
        view: AttentionLinesView,
        position: int,
        heads: Sequence[int],
        m: Matrices,
        locale: str,
    ):
        """The whole head view for the token at `position`, the heads `heads` shown."""
        chosen = token_lines(view, position, heads)
        self.view, self.chosen, self.heads, self.locale = view, position, chosen.heads, locale
        svg = self._drawing(view)
        self.scroll_box = make("div", "", svg, class_="lines-scroll")
        return make(
            "section",
            "",
            make(
                "p",
                text(
                    "explain.attention.lines",
                    locale,
                    min_width=MIN_WIDTH,
                    max_width=MAX_WIDTH,
                    min_opacity=MIN_OPACITY,
                    max_lines=MAX_LINES,
                ),
                class_="explain",
            ),
            self._head_toggles(view, chosen.heads),
            self.scroll_box,
            self._notes(chosen),
            *([self._table(chosen, view, m)] if chosen.heads else []),
            class_="panel head-view",
            data_testid="attention-lines",
            data_layer=view.layer,
            data_position=position,
            data_heads=",".join(map(str, chosen.heads)),
        )

    def _head_toggles(self, view: AttentionLinesView, shown: tuple[int, ...]):
        buttons = []
        for h, style in enumerate(view.styles):
            button = make(
                "button",
                "",
                _swatch(style),
                make("span", text("attention.lines.head", self.locale, head=h)),
                class_="lines-head",
                data_action="lines-head",
                data_head=h,
                aria_pressed=str(h in shown).lower(),
            )
            button.style.borderColor = style.colour
            buttons.append(button)
        every = make(
            "button",
            text("attention.lines.all", self.locale),
            class_="secondary small",
            data_action="lines-all-heads",
            disabled="" if len(shown) == len(view.styles) else None,
        )
        return make(
            "div",
            "",
            *buttons,
            every,
            class_="lines-heads",
            role="group",
            aria_label=text("attention.lines.heads", self.locale, layer=view.layer),
        )

    def _drawing(self, view: AttentionLinesView):
        """The SVG: left column (queries, focusable), right column (keys), the lines between."""
        n = len(view.labels)
        width = 2 * LABEL_WIDTH + GAP
        self.labels = {p: self._query_label(p) for p in view.query_positions}
        self.shown_position = None
        keys = [
            make_svg(
                "text",
                short_label(label),
                x=LABEL_WIDTH + GAP,
                y=f"{row_y(p) + 4:.1f}",
                class_="lines-key",
                data_position=p,
            )
            for p, label in enumerate(view.labels)
        ]
        self.lines_group = make_svg("g", class_="lines", aria_hidden="true")
        svg = make_svg(
            "svg",
            viewBox=f"0 0 {width} {n * ROW}",
            width=width,
            height=n * ROW,
            class_="lines-drawing",
            role="group",
            aria_label=text("attention.lines.label", self.locale, layer=view.layer),
        )
        for node in (self.lines_group, *self.labels.values(), *keys):
            svg.appendChild(node)
        self.show(self.chosen)
        return svg

    def _query_label(self, position: int):
        label = self.view.labels[position]
        node = make_svg(
            "text",
            short_label(label),
            x=LABEL_WIDTH,
            y=f"{row_y(position) + 4:.1f}",
            class_="lines-query" + (" chosen" if position == self.chosen else ""),
            data_action="lines-pick",
            data_position=position,
            tabindex="0" if position == self.chosen else "-1",
            role="button",
            aria_label=text("attention.lines.token", self.locale, label=label, position=position),
            aria_current="true" if position == self.chosen else None,
        )
        node.appendChild(make_svg("title", text("attention.lines.pick", self.locale, label=label)))
        return node

    def show(self, position: int) -> None:
        """Draw the lines of the token at `position` (the chosen one, or one pointed at)."""
        if position == self.shown_position or position not in self.labels:
            return
        if self.shown_position in self.labels:
            _set_class(self.labels[self.shown_position], "previewed", False)
        _set_class(self.labels[position], "previewed", position != self.chosen)
        self.shown_position = position
        fill_with_markup(
            self.lines_group,
            lines_markup(token_lines(self.view, position, self.heads), self.view.styles),
        )

    def restore(self) -> None:
        """The pointer or the focus left the tokens: the chosen token's lines again."""
        self.show(self.chosen)

    def point_at(self, target) -> None:
        """A pointer (or a focus) over `target`: the lines of the token it is on, if any, else
        the chosen token's."""
        label = target.closest(".lines-query") if hasattr(target, "closest") else None
        if getattr(label, "getAttribute", None) is None or self.view is None:  # None or JS null
            self.restore()
        else:
            self.show(int(label.getAttribute("data-position")))

    def move_focus(self, target, key: str) -> bool:
        """Arrow keys, Home and End on a token of the left column move the focus (one tab stop
        moves with it); True when the key was one of those."""
        if self.view is None or "lines-query" not in (target.getAttribute("class") or ""):
            return False
        positions = list(self.labels)
        here = positions.index(int(target.getAttribute("data-position")))
        if key in MOVES:
            there = min(max(here + MOVES[key], 0), len(positions) - 1)
        elif key in ("Home", "End"):
            there = 0 if key == "Home" else len(positions) - 1
        else:
            return False
        target.setAttribute("tabindex", "-1")
        label = self.labels[positions[there]]
        label.setAttribute("tabindex", "0")
        label.focus()
        self.show(positions[there])
        return True

    def focus_chosen(self) -> None:
        """After a pick redrew the view: the focus back on the chosen token."""
        if self.chosen in self.labels:
            self.labels[self.chosen].focus()

    def reveal_chosen(self) -> None:
        """Once on the page: scroll a long text's columns (not the page) to the chosen token."""
        if self.chosen not in self.labels:
            return
        box, label = self.scroll_box, self.labels[self.chosen]
        offset = label.getBoundingClientRect().top - box.getBoundingClientRect().top
        box.scrollTop = max(0, box.scrollTop + offset - box.clientHeight / 2)

    def _notes(self, chosen: TokenLines):
        """What is not drawn: no head switched on, or the weakest lines of a long prompt."""
        if not chosen.heads:
            return make("p", text("attention.lines.no_heads", self.locale), class_="note")
        items = [
            make(
                "li",
                text(
                    "attention.lines.omitted",
                    self.locale,
                    head=o.head,
                    count=o.count,
                    weight=o.weight,
                    label=chosen.label,
                ),
                data_head=o.head,
                data_count=o.count,
                data_weight=repr(o.weight),
            )
            for o in chosen.omitted
        ]
        return make("ul", "", *items, class_="note lines-omitted", data_testid="lines-omitted")

    def _table(self, chosen: TokenLines, view: AttentionLinesView, m: Matrices):
        """The chosen token's row of each shown head, as numbers."""
        name = text("attention.lines.table", self.locale, layer=view.layer, label=chosen.label)
        return m.numbers_toggle(
            chosen.weights,
            name,
            locale=self.locale,
            row_labels=[text("attention.lines.head", self.locale, head=h) for h in chosen.heads],
            col_labels=[f"{p}: {k}" for p, k in enumerate(view.labels[: chosen.position + 1])],
        )


def lines_markup(lines: TokenLines, styles: Sequence[HeadStyle]) -> str:
    """The lines as SVG markup, one <g> per shown head in its colour and dash holding its
    <line>s, weakest first: a thousand lines in one DOM call, where building each element costs
    a dozen. Only numbers and the palette's constants go in, never a token's text."""
    x0, x1, y1 = LABEL_WIDTH + 6, LABEL_WIDTH + GAP - 6, row_y(lines.position)
    fan = {h: (i - (len(lines.heads) - 1) / 2) * FAN for i, h in enumerate(lines.heads)}
    y2 = row_y(lines.target) + np.array([fan[h] for h in lines.head.tolist()])  # (N,)
    columns = zip(
        lines.head.tolist(),
        lines.target.tolist(),
        y2.tolist(),
        lines.width.tolist(),
        lines.opacity.tolist(),
        lines.weight.tolist(),
        strict=True,
    )
    by_head: dict[int, list[str]] = {h: [] for h in lines.heads}
    for head, target, y, width, opacity, weight in columns:
        by_head[head].append(
            f'<line x1="{x0}" y1="{y1:.1f}" x2="{x1}" y2="{y:.1f}" stroke-width="{width:.2f}" '
            f'stroke-opacity="{opacity:.3f}" data-head="{head:d}" '
            f'data-from="{lines.position:d}" data-to="{target:d}" data-weight="{weight!r}"/>'
        )
    groups = []
    for head, markup in by_head.items():
        style = styles[head]
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        groups.append(
            f'<g data-head-group="{head:d}" stroke="{style.colour}"{dash}>{"".join(markup)}</g>'
        )
    return "".join(groups)


def _swatch(style: HeadStyle):
    """A short stroke in the head's colour and dash, for its toggle button."""
    swatch = make_svg("svg", width=22, height=8, viewBox="0 0 22 8", aria_hidden="true")
    swatch.appendChild(
        make_svg(
            "line",
            x1=1,
            y1=4,
            x2=21,
            y2=4,
            stroke=style.colour,
            stroke_width=3,
            stroke_dasharray=style.dash or None,
        )
    )
    return swatch


def _set_class(node, name: str, on: bool) -> None:
    """Add or remove one class of an SVG element (through its attribute, as SVG has it)."""
    classes = [c for c in (node.getAttribute("class") or "").split() if c != name]
    node.setAttribute("class", " ".join(classes + ([name] if on else [])))
