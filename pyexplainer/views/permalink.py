"""The page's state as a URL query, and back: prompt, model, open view, block/head/token,
sampling settings and generated tokens, so a link restores exactly what its sender saw.

    ?model=demo&prompt=Once+upon&view=attention,2&head=1&token=3&t=0.8&k=40&p=0.9&seed=7&gen=11,12

plus embed=1 for an iframe: the open view alone, without the page around it.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlencode

from pyexplainer.config import ModelConfig
from pyexplainer.views.stages import (
    DEFAULT_STAGE,
    Stage,
    StageError,
    check_head,
    check_stage,
    stage_from_text,
    stage_text,
)


@dataclasses.dataclass(frozen=True)
class PageState:
    prompt: str
    model: str = ""
    stage: Stage = DEFAULT_STAGE
    head: int = 0
    position: int = -1  # -1: the last token
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0
    generated: tuple[int, ...] = ()
    embed: bool = False  # one view without the page around it, for an iframe


def _parameters(state: PageState) -> dict[str, str]:
    return {
        "model": state.model,
        "prompt": state.prompt,
        "view": stage_text(state.stage),
        "head": str(state.head),
        "token": str(state.position),
        "t": repr(state.temperature),
        "k": str(state.top_k),
        "p": repr(state.top_p),
        "seed": str(state.seed),
        "gen": ",".join(str(t) for t in state.generated),
        "embed": "1" if state.embed else "",
    }


def to_query(state: PageState) -> str:
    """The state as a query string (no leading "?"); values at their default are left out."""
    defaults = _parameters(PageState(prompt=""))
    given = _parameters(state)
    return urlencode({k: v for k, v in given.items() if k == "prompt" or v != defaults[k]})


def from_query(query: str) -> PageState | None:
    """The state a query string describes, or None when it names no prompt. A value that does
    not parse raises ValueError naming the parameter; whether the model has the view and head
    is for state_for_model to say."""
    values = {k: v[-1] for k, v in parse_qs(query.lstrip("?"), keep_blank_values=True).items()}
    if "prompt" not in values:
        return None

    def number(name: str, kind, default):
        raw = values.get(name)
        if raw is None or raw == "":
            return default
        try:
            return kind(raw)
        except ValueError:
            raise ValueError(f"the link's {name}={raw!r} is not a valid number") from None

    stage = stage_from_text(values.get("view") or stage_text(DEFAULT_STAGE))
    generated = tuple(number("gen", lambda raw: [int(t) for t in raw.split(",")], []))
    return PageState(
        prompt=values["prompt"],
        model=values.get("model", ""),
        stage=stage,
        head=number("head", int, 0),
        position=number("token", int, -1),
        temperature=number("t", float, 1.0),
        top_k=number("k", int, 0),
        top_p=number("p", float, 1.0),
        seed=number("seed", int, 0),
        generated=generated,
        embed=values.get("embed") == "1",
    )


def query_model(query: str) -> str:
    """The model a query string names (?model=NAME), with or without a whole state; "" if none."""
    return parse_qs(query.lstrip("?")).get("model", [""])[-1]


def state_for_model(state: PageState, c: ModelConfig) -> tuple[PageState, StageError | None]:
    """state with its view and head, if model c has them; else with the default view and head 0,
    and the error naming the part of the link this model does not have."""
    try:
        check_stage(state.stage, c.n_layer)
        check_head(state.head, c.n_head)
    except StageError as e:
        return dataclasses.replace(state, stage=DEFAULT_STAGE, head=0), e
    return state, None
