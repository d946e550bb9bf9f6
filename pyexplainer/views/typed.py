"""The settings a student types (sampling, the sparsity threshold, the head roles' choices),
each a pure event on the page's state (pyexplainer.views.state). A setting that does not read is
kept as typed, or refused with a message in the page's language: nothing typed loses the page."""

from __future__ import annotations

import dataclasses

from pyexplainer.messages import text
from pyexplainer.views.head_roles import ROLES
from pyexplainer.views.state import State, replace

SETTING_NAMES = {  # a sampling setting -> its name in the catalogue
    "temperature": "ui.temperature",
    "top_k": "ui.top_k",
    "top_p": "ui.top_p",
}


def settings_typed(state: State, *, temperature: str, top_k: str, top_p: str) -> State:
    """The sampling settings as typed. One that does not read as a number is kept as typed
    (`unreadable`, which the status line names) and the last numbers stay in use."""
    typed = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
    kinds = {"temperature": float, "top_k": int, "top_p": float}
    numbers = {}
    for name, raw in typed.items():
        try:
            numbers[name] = kinds[name](raw)
        except ValueError:
            return replace(state, unreadable=(SETTING_NAMES[name], raw))
    return replace(state, settings=dataclasses.replace(state.settings, **numbers), unreadable=None)


def unreadable_message(state: State) -> str | None:
    """What the status line says of a setting typed that is not a number, in the page's
    language; None when every setting reads."""
    if state.unreadable is None:
        return None
    key, raw = state.unreadable
    setting = text(key, state.locale)
    return text("ui.not_a_number", state.locale, setting=setting, value=raw)


def typed_number(raw: str, setting_key: str, locale: str) -> float:
    """raw as a number; a ValueError naming the setting, in the page's language, if it is not."""
    try:
        return float(raw)
    except ValueError:
        setting = text(setting_key, locale)
        raise ValueError(text("ui.not_a_number", locale, setting=setting, value=raw)) from None


def threshold_typed(state: State, raw: str) -> State:
    """The sparsity threshold; a ValueError says, in the page's language, why `raw` is not one."""
    threshold = typed_number(raw, "ui.threshold", state.locale)
    if not 0 <= threshold <= 1:
        raise ValueError(text("ui.threshold_range", state.locale))
    return replace(state, threshold=threshold)


def role_chosen(state: State, role: str) -> State:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    return replace(state, role=role)


def role_minimum_typed(state: State, raw: str) -> State:
    """The lowest score the ranked list shows; a ValueError if `raw` is not a number."""
    return replace(state, role_minimum=typed_number(raw, "head_roles.minimum", state.locale))
