"""The open stage (embeddings, layer norm, attention, MLP, residual stream, output, head roles,
logit lens, what if?, attribution) and its pickers, drawn from the page's state.

STAGE_PANELS is the registry: a stage's kind -> its panels, each a function of (page, state)
returning its element, with the state fields it reads. Every panel also reads the open stage,
the trace and the language (BASE_INPUTS): another stage, block, text or language draws the whole
stage anew; any other change redraws only the panels that read it (another head leaves the head
view as it is, another token the heatmaps). A new stage is one entry here, and its name in
STAGE_NAMES (and a tab in web/index.html).

What the views of a block share (its attention steps) comes from the page's TraceMemo, worked
out once per trace and block."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import js  # Pyodide only

from pyexplainer.messages import text
from pyexplainer.ui import analysis_panels, attention_panels, attribution_panel, experiments, panels
from pyexplainer.ui.dom import element, fill, make, options
from pyexplainer.views.attention import attention_row
from pyexplainer.views.attribution import attribution_view, chosen_tokens, lens_link
from pyexplainer.views.characters import read_token, unfinished_tail
from pyexplainer.views.embedding import embedding_view
from pyexplainer.views.layernorm import layer_norm_view
from pyexplainer.views.mlp import mlp_view
from pyexplainer.views.predictions import SHOWN_PREDICTIONS, output_view
from pyexplainer.views.residual import residual_view
from pyexplainer.views.stages import LAYER_NORMS, WHOLE_MODEL_STAGES
from pyexplainer.views.state import (
    State,
    changed,
    layer_norm_choice,
    predicted_token,
    shown_line_heads,
)

STAGE_NAMES = {  # a stage's kind -> its name in the breadcrumb (index.html's tabs say the same)
    "embedding": "stage.embedding",
    "layernorm": "stage.layernorm",
    "attention": "stage.attention",
    "mlp": "stage.mlp",
    "residual": "stage.residual",
    "output": "stage.output",
    "heads": "stage.heads",
    "lens": "stage.lens",
    "whatif": "stage.whatif",
    "attribution": "stage.attribution",
}
BASE_INPUTS = frozenset({"stage", "full", "tokens", "locale"})


@dataclasses.dataclass(frozen=True)
class StagePanel:
    """One panel of a stage: draw(page, state) -> its element, from BASE_INPUTS and `inputs`.
    Panels of the same `group` sit side by side in one box of that class. An `in_place` panel
    changes the elements another panel drew (ticks its boxes) and returns nothing."""

    name: str
    inputs: frozenset[str]
    draw: Callable
    group: str | None = None
    in_place: bool = False


# ------------------------------------------------------------------ the panels


def embedding(page, state: State):
    view = embedding_view(state.full, state.tokens)
    return panels.embedding_panel(view, page.matrices, state.locale)


def attention_grid(page, state: State):
    view = page.memo.grid(state.full, state.tokens, state.stage.block)
    return attention_panels.attention_grid_panel(view, state.head, page.matrices, state.locale)


def head_view(page, state: State):
    """Attention as lines of the open block, from the page's token (its time in the status's
    data-redraw, head_view_ms, for the benchmark)."""
    started = js.performance.now()
    view = page.memo.lines(state.full, state.tokens, state.stage.block)
    heads = shown_line_heads(state, page.config.n_head)
    panel = page.head_view.panel(view, state.position, heads, page.matrices, state.locale)
    page.timings["head_view_ms"] = js.performance.now() - started
    return panel


def attention_step(page, state: State):
    view = attention_row(state.full, state.tokens, state.stage.block, state.head, state.position)
    return attention_panels.attention_step_panel(view, page.matrices, state.locale)


def head_statistics(page, state: State):
    view = page.memo.interpretability(state.full, state.tokens, state.stage.block, state.threshold)
    return analysis_panels.interpretability_panel(view, state.head, state.locale)


def histograms(page, state: State):
    view = page.memo.debugging(state.full, state.stage.block, state.head)
    return analysis_panels.debugging_panel(view, state.locale)


def mlp(page, state: State):
    view = mlp_view(state.full, state.tokens, state.stage.block, state.position)
    return panels.mlp_panel(view, page.matrices, state.locale)


def layernorm(page, state: State):
    stage = state.stage
    view = layer_norm_view(
        state.full, page.config, state.tokens, stage.norm, stage.block, state.position
    )
    return panels.layernorm_panel(view, page.matrices, state.locale)


def residual(page, state: State):
    view = residual_view(state.full, state.tokens)
    return panels.residual_panel(view, state.position, state.locale)


def output(page, state: State):
    pending = unfinished_tail(page.tokenizer, state.all_ids)
    view = output_view(
        state.trace, page.tokenizer, state.settings, SHOWN_PREDICTIONS, pending=pending
    )
    return panels.output_panel(view, page.matrices, state.locale)


def head_roles(page, state: State):
    """Every head's role scores on the text; the induction scores once the model has run over
    a random sequence repeated once (page.session starts it when this stage opens)."""
    started = js.performance.now()
    view = page.memo.head_roles(state.full, state.induction)
    page.timings["head_roles_ms"] = js.performance.now() - started
    half = page.induction_half
    return analysis_panels.head_roles_panel(
        view, state.role, state.role_minimum, half, state.locale
    )


def lens(page, state: State):
    """The logit lens of the text as it is, the columns computed so far while the model computes
    the rest, or a note until the first ones arrive."""
    view = state.current(state.lens) or state.current(state.lens_partial)
    if view is not None:
        return experiments.logit_lens_panel(view, state.locale)
    return experiments.logit_lens_pending(state.locale)


def what_if(page, state: State):
    result = state.current(state.what_if)
    return experiments.what_if_panel(page.config, state.ablation, result, state.locale)


def what_if_switches(page, state: State) -> None:
    """The what-if's switches ticked as the state says (after Clear), in place: the box the
    student just ticked stays the same element, keeping its focus."""
    a, panel = state.ablation, element("ablation")
    for box in panel.querySelectorAll("[data-action=ablate-head]"):
        box.checked = (int(box.dataset.layer), int(box.dataset.head)) in a.heads
    for box in panel.querySelectorAll("[data-action=ablate-mlp]"):
        box.checked = int(box.dataset.layer) in a.mlps
    for radio in panel.querySelectorAll("[data-action=ablate-mode]"):
        radio.checked = radio.value == a.mode


def attribution(page, state: State):
    """What each part of the model wrote into the chosen token's logit at the last position,
    or a note until the model has run the last token again (page.session starts it)."""
    tokenizer, choice = page.tokenizer, state.attribution_choice
    parts = state.current(state.attribution)
    target, other = chosen_tokens(choice, predicted_token(state, tokenizer.never_sampled))
    if parts is None or any(t is not None and t not in parts.unembed for t in (target, other)):
        return attribution_panel.attribution_pending(state.locale)
    view = attribution_view(parts, target, other, choice.filter, choice.top)
    pending = unfinished_tail(tokenizer, state.all_ids)
    labels = {t: read_token(tokenizer, t, pending).label for t in parts.unembed}
    rounds = page.runner.backend == "wasm" and page.manifest.quantization != "fp32"
    link = lens_link(state.current(state.lens), target)
    return attribution_panel.attribution_panel(view, choice, labels, link, rounds, state.locale)


STAGE_PANELS: dict[str, tuple[StagePanel, ...]] = {
    "embedding": (StagePanel("embedding", frozenset(), embedding),),
    "layernorm": (StagePanel("layernorm", frozenset({"position"}), layernorm),),
    "attention": (
        StagePanel("grid", frozenset({"head"}), attention_grid, group="attention-views"),
        StagePanel(
            "head-view", frozenset({"position", "line_heads"}), head_view, group="attention-views"
        ),
        StagePanel("step", frozenset({"head", "position"}), attention_step),
        StagePanel("statistics", frozenset({"head", "threshold"}), head_statistics),
        StagePanel("histograms", frozenset({"head"}), histograms),
    ),
    "mlp": (StagePanel("mlp", frozenset({"position"}), mlp),),
    "residual": (StagePanel("residual", frozenset({"position"}), residual),),
    "output": (StagePanel("output", frozenset({"trace", "settings", "generated_ids"}), output),),
    "heads": (
        StagePanel("head-roles", frozenset({"role", "role_minimum", "induction"}), head_roles),
    ),
    "lens": (StagePanel("lens", frozenset({"lens", "lens_partial"}), lens),),
    "whatif": (
        StagePanel("what-if", frozenset({"what_if"}), what_if),
        StagePanel("switches", frozenset({"ablation"}), what_if_switches, in_place=True),
    ),
    "attribution": (
        StagePanel(
            "attribution", frozenset({"attribution", "attribution_choice", "lens"}), attribution
        ),
    ),
}


# ------------------------------------------------------------------ drawing the stage


class StageDrawn:
    """What the detail panel shows now: each panel's element and the state it was drawn from."""

    def __init__(self):
        self.nodes: dict[str, object] = {}
        self.drawn: dict[str, State] = {}

    def forget(self) -> None:
        self.nodes.clear()
        self.drawn.clear()


def draw_detail(page, state: State) -> None:
    """The open stage: drawn whole when the stage, the text or the language changed, else only
    its panels whose inputs changed."""
    started = js.performance.now()
    shown, entries = page.stage_drawn, STAGE_PANELS[state.stage.kind]
    first = shown.drawn.get(entries[0].name)
    whole = first is None or bool(changed(first, state) & BASE_INPUTS) or len(shown.drawn) == 0
    if whole:
        draw_whole_stage(page, state, entries)
    else:
        for entry in entries:
            if changed(shown.drawn[entry.name], state) & entry.inputs:
                redraw_panel(page, state, entry)
    if "head-view" in shown.nodes and (whole or shown.drawn["head-view"] is state):
        page.head_view.reveal_chosen()
    page.timings["detail_ms"] = js.performance.now() - started


def draw_whole_stage(page, state: State, entries) -> None:
    shown, target = page.stage_drawn, element("detail")
    page.matrices.forget(target)
    shown.forget()
    children, groups = [], {}
    for entry in entries:
        if entry.in_place:
            continue
        node = shown.nodes[entry.name] = entry.draw(page, state)
        if entry.group is None:
            children.append(node)
        elif entry.group in groups:
            groups[entry.group].appendChild(node)
        else:
            groups[entry.group] = make("div", "", node, class_=entry.group)  # side by side
            children.append(groups[entry.group])
    fill(target, *children)
    for entry in entries:
        shown.drawn[entry.name] = state


def redraw_panel(page, state: State, entry: StagePanel) -> None:
    shown = page.stage_drawn
    if entry.in_place:
        entry.draw(page, state)
    else:
        old = shown.nodes[entry.name]
        page.matrices.forget(old)
        new = shown.nodes[entry.name] = entry.draw(page, state)
        old.replaceWith(new)
    shown.drawn[entry.name] = state


def draw_pickers(page, state: State) -> None:
    """The layer / head / token / layer-norm pickers showing the current choice, the stage tabs
    and the breadcrumb."""
    c, stage, locale = page.config, state.stage, state.locale
    block = stage.block if stage.block is not None and stage.block < c.n_layer else c.n_layer - 1
    options(element("layer-select"), [(str(i), str(i)) for i in range(c.n_layer)], str(block))
    options(element("head-select"), [(str(h), str(h)) for h in range(c.n_head)], str(state.head))
    options(
        element("position-select"),
        [(str(t.position), f"{t.position}: {t.label}") for t in state.tokens],
        str(state.position),
    )
    which = layer_norm_choice(stage)
    options(element("layernorm-select"), [(w, w) for w in LAYER_NORMS], which)
    element("layer-select").disabled = stage.kind in WHOLE_MODEL_STAGES or which == "lnf"
    element("head-select").disabled = stage.kind != "attention"
    element("layernorm-select").disabled = stage.kind != "layernorm"
    for tab in element("stage-tabs").querySelectorAll("button"):
        tab.setAttribute("aria-pressed", str(tab.dataset.kind == stage.kind).lower())
    element("breadcrumb").textContent = " › ".join(
        [text("overview.title", locale)]
        + ([f"{text('ui.layer', locale)} {stage.block}"] if stage.block is not None else [])
        + [text(STAGE_NAMES[stage.kind], locale)]
    )
