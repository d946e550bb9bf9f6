"""The page's state to and from a link (pyexplainer.views.permalink): what a link to the page as
it is holds, and the view a link opens once its text has run."""

from __future__ import annotations

import dataclasses

from pyexplainer.views.permalink import PageState
from pyexplainer.views.stages import Stage
from pyexplainer.views.state import State, replace


def link_opened(state: State, link: PageState) -> State:
    """A link's view and settings, once its text and tokens have run (`state` holds their
    trace); its stage and head checked for this model before (permalink.state_for_model)."""
    last = state.last_position
    return replace(
        state,
        stage=Stage.of(link.stage),
        head=link.head,
        position=link.position if 0 <= link.position <= last else last,
        settings=dataclasses.replace(
            state.settings,
            temperature=link.temperature,
            top_k=link.top_k,
            top_p=link.top_p,
        ),
        seed=link.seed,
        unreadable=None,
        embed=link.embed,
        attribution_choice=dataclasses.replace(
            state.attribution_choice, target=link.target, other=link.versus
        ),
    )


def link_of(state: State) -> PageState:
    """What a link to the page as it is holds."""
    s = state.settings
    return PageState(
        prompt=state.text,
        model=state.model,
        stage=state.stage.id,
        head=state.head,
        position=state.position,
        temperature=s.temperature,
        top_k=s.top_k,
        top_p=s.top_p,
        seed=state.seed,
        generated=state.generated_ids,
        embed=state.embed,
        target=state.attribution_choice.target,
        versus=state.attribution_choice.other,
        locale=state.locale,
    )
