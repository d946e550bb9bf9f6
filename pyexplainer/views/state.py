"""The page's state, one frozen value: what the page shows and what it was computed from. Every
event (a click, a key, a setting typed, a link, a result of the model) becomes the next state
through one pure function of the last state and the event, listed below by kind; the page then
redraws the panels whose inputs changed (pyexplainer.page.render). Nothing here touches the DOM,
so each function is tested in CPython (tests/test_views_state.py).

Two kinds of fields. The student's choices and the notes are plain values, compared by `==`.
What the model computed (the traces, the tokens, the lens, the what-if, the induction scores)
holds arrays: those fields are compared by identity (`changed` says which fields differ), as a
new result is always a new object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.trace import Trace
from pyexplainer.views.attribution import FILTERS, AttributionChoice, chosen_tokens, top_predictions
from pyexplainer.views.characters import CharacterGroup
from pyexplainer.views.interpretability import DEFAULT_THRESHOLD
from pyexplainer.views.predictions import SamplingSettings
from pyexplainer.views.stages import LAYER_NORMS, WHOLE_MODEL_STAGES, Stage
from pyexplainer.views.tokens import TokenView

Note = tuple[str, dict]  # a catalogue key and its values, said again in another language
Result = tuple[tuple[int, ...], object]  # (the token ids it is for, the view)


def computed(default=None):
    """A field of what the model computed: compared by identity, never by `==`."""
    return dataclasses.field(default=default, compare=False)


@dataclasses.dataclass(frozen=True)
class State:
    """Everything the page shows is drawn from this (and the model the page runs)."""

    # the model and the interface
    model: str = ""
    locale: str = "en"
    embed: bool = False  # shown in an iframe: the open view only (?embed=1)
    # the text as the model last ran it
    text: str = ""
    prompt_ids: tuple[int, ...] = ()
    generated_ids: tuple[int, ...] = ()
    # what the student looks at
    stage: Stage = Stage("embedding")
    head: int = 0
    position: int = 0  # absolute position of the token the detail views follow
    line_heads: tuple[int, ...] | None = None  # the heads the head view shows; None: every one
    threshold: float = DEFAULT_THRESHOLD  # of the sparsity metrics
    role: str = "previous_token"  # the head role the ranked list sorts by
    role_minimum: float = 0.0  # the list shows heads scoring at least this
    # the sampling settings (the last ones that read as numbers) and the seed of the last run
    settings: SamplingSettings = SamplingSettings()
    seed: int = 0
    unreadable: tuple[str, str] | None = None  # (the setting's catalogue key, the text typed)
    ablation: Ablation = Ablation()  # the parts the what-if switches off, as ticked
    attribution_choice: AttributionChoice = AttributionChoice()  # the token(s), filter, top N
    # the notes under the prompt and the bars, and the last recompute check
    context_note: Note | None = None
    generate_note: Note | None = None
    recompute: dict | None = None
    # what the model computed, compared by identity
    trace: Trace | None = computed()  # the last step (after a generation step: one token)
    full: Trace | None = computed()  # every position so far, the steps joined
    tokens: tuple[TokenView, ...] = computed(())  # of the text and what was generated
    token_groups: tuple[CharacterGroup, ...] = computed(())  # the same, by the characters
    lens: Result | None = computed()  # the logit lens of every position asked
    lens_partial: Result | None = computed()  # its columns so far, while it computes
    what_if: Result | None = computed()  # the last what-if run
    induction: np.ndarray | None = computed()  # (L, H) scores, once the head roles need them
    attribution: Result | None = computed()  # core.attribution.Parts of the last position

    @property
    def all_ids(self) -> tuple[int, ...]:
        return self.prompt_ids + self.generated_ids

    @property
    def last_position(self) -> int:
        """Absolute position of the newest token, prompt and generated ones counted."""
        return len(self.all_ids) - 1

    def current(self, result: Result | None):
        """The view of a (token ids, view) result if it is for the text as it is now."""
        return result[1] if result is not None and result[0] == self.all_ids else None


FIELDS = tuple(dataclasses.fields(State))
ALL_FIELDS = frozenset(f.name for f in FIELDS)


def changed(old: State | None, new: State) -> frozenset[str]:
    """The names of the fields that differ between old and new (all of them when there is no
    old state): by `==` for the student's choices and the notes, by identity for what the model
    computed."""
    if old is None:
        return ALL_FIELDS
    differ = set()
    for f in FIELDS:
        a, b = getattr(old, f.name), getattr(new, f.name)
        if (a is not b) if not f.compare else (a is not b and a != b):
            differ.add(f.name)
    return frozenset(differ)


def replace(state: State, **fields) -> State:
    return dataclasses.replace(state, **fields)


# ------------------------------------------------------------------ the model and the text


def model_opened(state: State, name: str, banned: tuple[int, ...]) -> State:
    """Another model runs: nothing computed by the last one is kept, nor its parts switched off;
    the text, the view and the settings stay (a view this model lacks is checked before)."""
    return replace(
        state,
        model=name,
        settings=dataclasses.replace(state.settings, banned=banned),
        ablation=Ablation(),
        attribution_choice=AttributionChoice(),  # token ids of the last model's vocabulary
        recompute=None,
        trace=None,
        full=None,
        tokens=(),
        token_groups=(),
        lens=None,
        lens_partial=None,
        what_if=None,
        induction=None,
        attribution=None,
    )


def _followed(state: State, follow: bool) -> State:
    """The views follow the last token after a run or a step, unless the student picked a token
    after asking for it (`follow` False: the pick is the later wish)."""
    if follow or state.position > state.last_position:
        return replace(state, position=state.last_position)
    return state


def text_run(
    state: State,
    *,
    text: str,
    prompt_ids: Sequence[int],
    trace: Trace,
    tokens: Sequence[TokenView],
    groups: Sequence[CharacterGroup],
    seed: int,
    follow: bool = True,
) -> State:
    """A run of `text`: its trace is every position, nothing is generated yet, and what was
    computed of the text before (the lens, the what-if, the notes) is gone."""
    ran = replace(
        state,
        text=text,
        prompt_ids=tuple(prompt_ids),
        generated_ids=(),
        trace=trace,
        full=trace,
        tokens=tuple(tokens),
        token_groups=tuple(groups),
        seed=seed,
        recompute=None,
        lens=None,
        lens_partial=None,
        what_if=None,
        attribution=None,
        generate_note=None,
    )
    return _followed(ran, follow)


def token_appended(
    state: State,
    *,
    token: int,
    step: Trace,
    full: Trace,
    tokens: Sequence[TokenView],
    groups: Sequence[CharacterGroup],
    follow: bool = True,
) -> State:
    """One generation step: `step` is the pass over `token` alone, `full` every position."""
    appended = replace(
        state,
        generated_ids=state.generated_ids + (token,),
        trace=step,
        full=full,
        tokens=tuple(tokens),
        token_groups=tuple(groups),
        recompute=None,
    )
    return _followed(appended, follow)


def recomputed(state: State, values: dict) -> State:
    """The recompute check's figures (output.recompute's values)."""
    return replace(state, recompute=values)


def lens_computed(state: State, ids: tuple[int, ...], view, *, done: bool) -> State:
    """The lens of the text `ids`: its columns so far, or (`done`) all of them."""
    if done:
        return replace(state, lens=(ids, view), lens_partial=None)
    return replace(state, lens_partial=(ids, view))


def what_if_computed(state: State, ids: tuple[int, ...], view) -> State:
    return replace(state, what_if=(ids, view))


def attribution_computed(state: State, ids: tuple[int, ...], parts) -> State:
    """The parts the model wrote at the last position of the text `ids`
    (core.attribution.Parts, with the output layer's rows of the tokens it asked about)."""
    return replace(state, attribution=(ids, parts))


def attribution_chosen(state: State, **changes) -> State:
    """Another target, second token (None: none), filter or number of parts shown."""
    choice = dataclasses.replace(state.attribution_choice, **changes)
    if choice.filter not in FILTERS:
        raise ValueError(f"the filter is one of {', '.join(FILTERS)}, not {choice.filter!r}")
    if choice.top < 1:
        raise ValueError(f"the stage shows at least one part, not {choice.top}")
    if choice.other is not None and choice.other == chosen_tokens(choice, -1)[0]:
        choice = dataclasses.replace(choice, other=None)  # a token against itself: nothing
    return replace(state, attribution_choice=choice)


def induction_computed(state: State, scores: np.ndarray) -> State:
    """The (L, H) induction scores of the model (once per model)."""
    return replace(state, induction=scores)


def context_noted(state: State, note: Note | None) -> State:
    """The note under the prompt: too long for the context, or what keeping its end dropped."""
    return replace(state, context_note=note)


def generation_noted(state: State, note: Note | None) -> State:
    """The line under the bars while and after generating N tokens."""
    return replace(state, generate_note=note)


# ------------------------------------------------------------------ the view


def stage_opened(state: State, stage: Stage) -> State:
    """A node of the overview, a card of the tour, or a stage of a link (checked before)."""
    return replace(state, stage=stage)


def stage_of_kind(state: State, kind: str, n_layer: int) -> Stage:
    """The stage a tab of `kind` opens: the block picked stays picked."""
    if kind in WHOLE_MODEL_STAGES:
        return Stage(kind)
    block = min(state.stage.block if state.stage.block is not None else 0, n_layer - 1)
    return Stage("layernorm", block, "ln1") if kind == "layernorm" else Stage(kind, block)


def tab_opened(state: State, kind: str, n_layer: int) -> State:
    return stage_opened(state, stage_of_kind(state, kind, n_layer))


def pickers_changed(
    state: State, *, layer: int, head: int, position: int, norm: str, n_layer: int
) -> State:
    """The block, head, token and layer-norm pickers, as they read after a change of one: the
    block moves the open stage there (the final layer norm is after the last block)."""
    stage = state.stage
    if stage.kind == "layernorm":
        stage = Stage("layernorm", n_layer if norm == "lnf" else layer, norm)
    elif stage.block is not None:
        stage = Stage(stage.kind, layer)
    return replace(state, stage=stage, head=head, position=position)


def head_picked(state: State, head: int) -> State:
    """A head of the open block (a heatmap of the grid, a row of the statistics)."""
    return replace(state, head=head)


def head_opened(state: State, layer: int, head: int) -> State:
    """A head of the ranked list of head roles: that head, in the attention stage of its block."""
    return replace(state, stage=Stage("attention", layer), head=head)


def position_picked(state: State, position: int) -> State:
    """A token picked: a chip, a label of the head view, a column of a heatmap."""
    return replace(state, position=position)


def view_reset(state: State) -> State:
    """Back to the start: the embeddings, head 0, the last token."""
    return replace(state, stage=Stage("embedding"), head=0, position=state.last_position)


def line_head_toggled(state: State, head: int, n_head: int) -> State:
    """A head of the head view shown or hidden (of this model's heads)."""
    shown = set(shown_line_heads(state, n_head)) ^ {head}
    return replace(state, line_heads=tuple(h for h in range(n_head) if h in shown))


def line_heads_all(state: State) -> State:
    return replace(state, line_heads=None)


def shown_line_heads(state: State, n_head: int) -> tuple[int, ...]:
    """The heads the head view shows: every head, or those switched on (of this model's)."""
    if state.line_heads is None:
        return tuple(range(n_head))
    return tuple(h for h in state.line_heads if 0 <= h < n_head)


def locale_switched(state: State, locale: str) -> State:
    return replace(state, locale=locale)


def ablation_head_switched(state: State, layer: int, head: int, off: bool) -> State:
    a, part = state.ablation, {(layer, head)}
    heads = a.heads | part if off else a.heads - part
    return replace(state, ablation=Ablation(frozenset(heads), a.mlps, a.mode))


def ablation_mlp_switched(state: State, layer: int, off: bool) -> State:
    a = state.ablation
    mlps = a.mlps | {layer} if off else a.mlps - {layer}
    return replace(state, ablation=Ablation(a.heads, frozenset(mlps), a.mode))


def ablation_mode_chosen(state: State, mode: str) -> State:
    a = state.ablation
    return replace(state, ablation=Ablation(a.heads, a.mlps, mode))


def ablation_cleared(state: State) -> State:
    """Every part back on; the kind of ablation stays."""
    return replace(state, ablation=Ablation(mode=state.ablation.mode))


def lens_wanted(state: State) -> bool:
    """The lens stage is open and the lens of the text as it is has not been computed."""
    return (
        state.stage.kind == "lens" and state.full is not None and state.current(state.lens) is None
    )


def predicted_token(state: State, banned: tuple[int, ...]) -> int:
    """The model's top prediction after the text (the tokens it never draws left out)."""
    return top_predictions(state.trace.last_logits, banned, 1)[0]


def attribution_wanted(state: State, banned: tuple[int, ...]) -> bool:
    """The attribution stage is open and the parts of the text as it is, with the rows of its
    target and second token, have not been computed."""
    if state.stage.kind != "attribution" or state.full is None:
        return False
    parts = state.current(state.attribution)
    target, other = chosen_tokens(state.attribution_choice, predicted_token(state, banned))
    return parts is None or any(t is not None and t not in parts.unembed for t in (target, other))


def induction_wanted(state: State) -> bool:
    """The head roles are open and the model's induction scores are not known yet."""
    return state.stage.kind == "heads" and state.full is not None and state.induction is None


def layer_norm_choice(stage: Stage) -> str:
    """The layer norm the picker shows: the open one, else the block's first."""
    return stage.norm if stage.kind == "layernorm" else LAYER_NORMS[0]
