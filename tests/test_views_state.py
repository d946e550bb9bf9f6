"""The page's state and its events: for each kind of event, an old state and the event give the
new state expected, written out here from what the page should do (not from the code); and
`changed` names the fields a redraw compares, by identity for what the model computed."""

import dataclasses

import numpy as np
import pytest

from pyexplainer.core.ablation import Ablation
from pyexplainer.views import state as events
from pyexplainer.views import state_links, typed
from pyexplainer.views.permalink import PageState
from pyexplainer.views.predictions import SamplingSettings
from pyexplainer.views.stages import Stage
from pyexplainer.views.state import State, changed
from pyexplainer.views.tokens import TokenView

N_LAYER, N_HEAD = 3, 4


class Computed:
    """A stand-in for a trace or a view: events keep it, never look inside."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return self.name


def tokens(ids) -> tuple[TokenView, ...]:
    return tuple(TokenView(i, t, f"t{t}", 0, 0, False) for i, t in enumerate(ids))


TRACE, STEP, FULL = Computed("trace"), Computed("step"), Computed("full")
LENS, WHAT_IF = Computed("lens view"), Computed("what-if view")
RAN = State(
    model="demo",
    text="a b c",
    prompt_ids=(1, 2, 3),
    trace=TRACE,
    full=TRACE,
    tokens=tokens((1, 2, 3)),
    position=2,
)


def same(a: State, b: State) -> bool:
    """Equal choices and the very same computed objects."""
    return changed(a, b) == frozenset()


# ------------------------------------------------------------------ changed


def test_changed_compares_choices_by_value_and_results_by_identity():
    assert changed(None, State()) == events.ALL_FIELDS
    assert changed(State(head=1), State(head=1)) == frozenset()
    assert changed(State(), State(stage=Stage("attention", 1), head=2)) == {"stage", "head"}
    a, b = np.zeros(3), np.zeros(3)  # equal arrays, different results
    assert changed(State(induction=a), State(induction=a)) == frozenset()
    assert changed(State(induction=a), State(induction=b)) == {"induction"}
    assert changed(State(lens=((1,), LENS)), State(lens=((1,), Computed("other")))) == {"lens"}


def test_a_stage_is_a_typed_value_that_writes_its_link_id():
    stage = Stage.of(("layernorm", 2, "ln1"))
    assert (stage.kind, stage.block, stage.norm) == ("layernorm", 2, "ln1")
    assert stage.id == ("layernorm", 2, "ln1") and stage.text == "layernorm,2,ln1"
    assert Stage.of(("attention", 0)).id == ("attention", 0)
    assert Stage.of(("lens",)) == Stage("lens") and Stage("lens").id == ("lens",)


# ------------------------------------------------------------------ the model and the text


def test_a_model_opened_forgets_what_the_last_one_computed_and_keeps_the_view():
    old = dataclasses.replace(
        RAN,
        stage=Stage("mlp", 1),
        head=2,
        ablation=Ablation(frozenset({(0, 1)})),
        lens=((1, 2, 3), LENS),
        induction=np.ones((N_LAYER, N_HEAD)),
        recompute={"tokens": 3},
        settings=SamplingSettings(0.5, 3, 0.9),
    )
    new = events.model_opened(old, "other", (0, 1))
    expected = State(
        model="other",
        text="a b c",
        prompt_ids=(1, 2, 3),
        position=2,
        stage=Stage("mlp", 1),
        head=2,
        settings=SamplingSettings(0.5, 3, 0.9, banned=(0, 1)),
    )
    assert same(new, expected)


def test_a_run_replaces_the_text_its_trace_and_what_was_computed_of_the_old_text():
    old = dataclasses.replace(
        RAN,
        generated_ids=(9,),
        lens=((1, 2, 3, 9), LENS),
        what_if=((1, 2, 3, 9), WHAT_IF),
        recompute={"tokens": 4},
        generate_note=("ui.generate_done", {"k": 1}),
        context_note=("ui.kept_last_tokens", {"kept": 3, "dropped": 1}),
        position=1,
    )
    ids, new_tokens = (5, 6), tokens((5, 6))
    new = events.text_run(
        old, text="x y", prompt_ids=[5, 6], trace=STEP, tokens=new_tokens, groups=(), seed=7
    )
    expected = dataclasses.replace(
        old,
        text="x y",
        prompt_ids=ids,
        generated_ids=(),
        trace=STEP,
        full=STEP,
        tokens=new_tokens,
        seed=7,
        position=1,  # the last token
        lens=None,
        what_if=None,
        recompute=None,
        generate_note=None,
    )  # the context note is said by the run itself, before the model runs
    assert same(new, expected)


def test_a_token_picked_after_asking_for_a_run_stays_picked_if_the_text_has_it():
    old = dataclasses.replace(RAN, position=0)
    kept = events.text_run(
        old, text="a b", prompt_ids=[1, 2], trace=STEP, tokens=(), groups=(), seed=0, follow=False
    )
    assert kept.position == 0
    old = dataclasses.replace(RAN, position=2)
    shorter = events.text_run(
        old, text="a", prompt_ids=[1], trace=STEP, tokens=(), groups=(), seed=0, follow=False
    )
    assert shorter.position == 0  # the text has no position 2 any more: its last token


def test_a_token_appended_extends_the_text_and_follows_the_new_token():
    new = events.token_appended(
        dataclasses.replace(RAN, recompute={"tokens": 3}),
        token=9,
        step=STEP,
        full=FULL,
        tokens=tokens((1, 2, 3, 9)),
        groups=(),
    )
    expected = dataclasses.replace(
        RAN,
        generated_ids=(9,),
        trace=STEP,
        full=FULL,
        tokens=new.tokens,
        position=3,
        recompute=None,
    )
    assert same(new, expected)
    assert new.all_ids == (1, 2, 3, 9) and new.last_position == 3


def test_a_recompute_check_is_kept_until_the_text_changes():
    values = {"tokens": 3, "difference": "1.0e-06"}
    assert events.recomputed(RAN, values) == dataclasses.replace(RAN, recompute=values)


def test_the_lens_is_kept_for_the_text_it_was_computed_on():
    ids = RAN.all_ids
    partial = events.lens_computed(RAN, ids, LENS, done=False)
    assert partial.lens is None and partial.current(partial.lens_partial) is LENS
    done = events.lens_computed(partial, ids, LENS, done=True)
    assert done.current(done.lens) is LENS and done.lens_partial is None
    stale = events.lens_computed(RAN, (7, 7), LENS, done=True)
    assert stale.current(stale.lens) is None  # another text's lens is not shown


def test_a_what_if_result_and_the_induction_scores_are_kept():
    done = events.what_if_computed(RAN, RAN.all_ids, WHAT_IF)
    assert done.current(done.what_if) is WHAT_IF
    scores = np.ones((N_LAYER, N_HEAD))
    assert events.induction_computed(RAN, scores).induction is scores


def test_the_notes_are_kept_as_keys_to_say_again_in_another_language():
    note = ("ui.too_long", {"n_tokens": 70})
    assert events.context_noted(RAN, note).context_note == note
    assert events.context_noted(events.context_noted(RAN, note), None).context_note is None
    said = ("ui.generate_done", {"k": 3})
    assert events.generation_noted(RAN, said).generate_note == said


# ------------------------------------------------------------------ the view


def test_a_stage_opened_from_the_overview_or_the_tour():
    new = events.stage_opened(RAN, Stage("layernorm", N_LAYER, "lnf"))
    assert new == dataclasses.replace(RAN, stage=Stage("layernorm", N_LAYER, "lnf"))


@pytest.mark.parametrize(
    "old, kind, expected",
    [
        (Stage("attention", 2), "mlp", Stage("mlp", 2)),  # the block stays picked
        (Stage("mlp", 1), "layernorm", Stage("layernorm", 1, "ln1")),
        (Stage("layernorm", N_LAYER, "lnf"), "attention", Stage("attention", N_LAYER - 1)),
        (Stage("embedding"), "residual", Stage("residual", 0)),
        (Stage("attention", 2), "heads", Stage("heads")),
        (Stage("attention", 2), "output", Stage("output")),
    ],
)
def test_a_stage_tab_keeps_the_block_that_is_picked(old, kind, expected):
    new = events.tab_opened(dataclasses.replace(RAN, stage=old), kind, N_LAYER)
    assert new == dataclasses.replace(RAN, stage=expected)


@pytest.mark.parametrize(
    "old, picked, expected",
    [
        (Stage("attention", 0), dict(layer=2, norm="ln1"), Stage("attention", 2)),
        (Stage("layernorm", 0, "ln1"), dict(layer=1, norm="ln2"), Stage("layernorm", 1, "ln2")),
        (Stage("layernorm", 0, "ln1"), dict(layer=1, norm="lnf"), Stage("layernorm", 3, "lnf")),
        (Stage("output"), dict(layer=2, norm="ln1"), Stage("output")),  # no block to move
    ],
)
def test_the_pickers_move_the_block_the_head_and_the_token(old, picked, expected):
    new = events.pickers_changed(
        dataclasses.replace(RAN, stage=old), head=3, position=1, n_layer=N_LAYER, **picked
    )
    assert new == dataclasses.replace(RAN, stage=expected, head=3, position=1)


def test_a_head_picked_or_opened_from_the_head_roles():
    assert events.head_picked(RAN, 3) == dataclasses.replace(RAN, head=3)
    opened = events.head_opened(dataclasses.replace(RAN, stage=Stage("heads")), 2, 1)
    assert opened == dataclasses.replace(RAN, stage=Stage("attention", 2), head=1)


def test_a_token_picked_and_the_view_reset():
    assert events.position_picked(RAN, 0) == dataclasses.replace(RAN, position=0)
    old = dataclasses.replace(RAN, stage=Stage("mlp", 2), head=3, position=0)
    assert events.view_reset(old) == dataclasses.replace(RAN, stage=Stage("embedding"))


def test_the_heads_of_the_head_view_switched_one_by_one_or_all_back():
    one_off = events.line_head_toggled(RAN, 1, N_HEAD)
    assert one_off.line_heads == (0, 2, 3)
    assert events.shown_line_heads(one_off, N_HEAD) == (0, 2, 3)
    back = events.line_head_toggled(one_off, 1, N_HEAD)
    assert back.line_heads == (0, 1, 2, 3)
    assert events.line_heads_all(one_off).line_heads is None
    assert events.shown_line_heads(State(line_heads=(0, 5)), N_HEAD) == (0,)  # a smaller model


# ------------------------------------------------------------------ settings


def test_sampling_settings_typed_as_numbers_are_used():
    old = dataclasses.replace(RAN, settings=SamplingSettings(banned=(0,)))
    new = typed.settings_typed(old, temperature="0.7", top_k="40", top_p="0.9")
    assert new == dataclasses.replace(old, settings=SamplingSettings(0.7, 40, 0.9, banned=(0,)))


def test_a_setting_that_is_not_a_number_keeps_the_last_numbers_and_is_named():
    old = dataclasses.replace(RAN, settings=SamplingSettings(0.7, 40, 0.9))
    new = typed.settings_typed(old, temperature="0.7", top_k="4o", top_p="")
    assert new == dataclasses.replace(old, unreadable=("ui.top_k", "4o"))
    assert typed.unreadable_message(new) == "Top-k: '4o' is not a number"
    said = typed.unreadable_message(events.locale_switched(new, "zh-CN"))
    assert "4o" in said and said != typed.unreadable_message(new)  # said again in Chinese
    fixed = typed.settings_typed(new, temperature="0.7", top_k="40", top_p="0.9")
    assert fixed == old and typed.unreadable_message(fixed) is None


def test_the_threshold_and_the_head_roles_list():
    assert typed.threshold_typed(RAN, "0.1") == dataclasses.replace(RAN, threshold=0.1)
    with pytest.raises(ValueError, match="is not a number"):
        typed.threshold_typed(RAN, "x")
    with pytest.raises(ValueError, match="between 0 and 1"):
        typed.threshold_typed(RAN, "2")
    assert typed.role_chosen(RAN, "induction") == dataclasses.replace(RAN, role="induction")
    with pytest.raises(ValueError):
        typed.role_chosen(RAN, "copying")
    assert typed.role_minimum_typed(RAN, "0.5") == dataclasses.replace(RAN, role_minimum=0.5)
    with pytest.raises(ValueError, match="is not a number"):
        typed.role_minimum_typed(RAN, "half")


def test_the_language_switched():
    assert events.locale_switched(RAN, "zh-CN") == dataclasses.replace(RAN, locale="zh-CN")


def test_the_parts_the_what_if_switches_off():
    heads = events.ablation_head_switched(RAN, 0, 1, True)
    assert heads.ablation == Ablation(frozenset({(0, 1)}))
    both = events.ablation_mlp_switched(heads, 2, True)
    assert both.ablation == Ablation(frozenset({(0, 1)}), frozenset({2}))
    mean = events.ablation_mode_chosen(both, "mean")
    assert mean.ablation == Ablation(frozenset({(0, 1)}), frozenset({2}), "mean")
    on_again = events.ablation_mlp_switched(
        events.ablation_head_switched(mean, 0, 1, False), 2, False
    )
    assert on_again.ablation == Ablation(mode="mean")
    assert events.ablation_cleared(mean).ablation == Ablation(mode="mean")


# ------------------------------------------------------------------ links


def test_a_link_opened_brings_its_view_and_settings_after_its_text_ran():
    link = PageState(
        prompt="a b c",
        stage=("attention", 1),
        head=2,
        position=1,
        temperature=0.6,
        top_k=5,
        top_p=0.8,
        seed=4,
        embed=True,
    )
    old = dataclasses.replace(RAN, settings=SamplingSettings(banned=(0,)), unreadable=("k", "?"))
    new = state_links.link_opened(old, link)
    expected = dataclasses.replace(
        RAN,
        stage=Stage("attention", 1),
        head=2,
        position=1,
        settings=SamplingSettings(0.6, 5, 0.8, banned=(0,)),
        seed=4,
        embed=True,
    )
    assert same(new, expected)
    assert state_links.link_opened(RAN, dataclasses.replace(link, position=-1)).position == 2
    assert state_links.link_opened(RAN, dataclasses.replace(link, position=9)).position == 2


def test_the_link_of_a_state_opens_that_state():
    shown = dataclasses.replace(
        RAN,
        generated_ids=(9,),
        stage=Stage("layernorm", 1, "ln2"),
        head=3,
        position=1,
        settings=SamplingSettings(0.6, 5, 0.8, banned=(0,)),
        seed=4,
        locale="zh-CN",
    )
    link = state_links.link_of(shown)
    assert link == PageState(
        prompt="a b c",
        model="demo",
        stage=("layernorm", 1, "ln2"),
        head=3,
        position=1,
        temperature=0.6,
        top_k=5,
        top_p=0.8,
        seed=4,
        generated=(9,),
        locale="zh-CN",  # the link opens in the language it was made in
    )
    ran_again = dataclasses.replace(shown, stage=Stage("embedding"), head=0, position=3)
    assert state_links.link_opened(ran_again, link) == shown


def test_the_lens_and_the_induction_scores_are_wanted_when_their_stage_opens_without_them():
    lens_open = dataclasses.replace(RAN, stage=Stage("lens"))
    assert events.lens_wanted(lens_open)
    assert not events.lens_wanted(events.lens_computed(lens_open, RAN.all_ids, LENS, done=True))
    assert not events.lens_wanted(RAN) and not events.lens_wanted(State(stage=Stage("lens")))
    heads_open = dataclasses.replace(RAN, stage=Stage("heads"))
    assert events.induction_wanted(heads_open)
    assert not events.induction_wanted(events.induction_computed(heads_open, np.ones((1, 1))))
