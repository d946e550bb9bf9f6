"""The sampling controls: what the student typed in them (read into the state by
views.typed.settings_typed), and the state's settings written back to them when they came from
elsewhere (a link). Below every drawing module."""

from __future__ import annotations

from pyexplainer.ui.dom import document, element
from pyexplainer.views.predictions import SamplingSettings

BOXES = {"temperature": "temperature-value", "top_k": "top-k", "top_p": "top-p"}


def typed_settings() -> dict[str, str]:
    """The sampling settings as typed: the temperature from its number box (which the slider
    writes to, and which holds a link's value beyond the slider's end)."""
    return {name: str(element(testid).value) for name, testid in BOXES.items()}


def typed_seed() -> int:
    return int(element("seed").value or 0)


def show_settings(settings: SamplingSettings) -> None:
    """Each box shows its setting as a link writes it, but the box the student is typing in."""
    for name, testid in BOXES.items():
        if element(testid) != document.activeElement:  # JS proxies: == is ===
            value = str(getattr(settings, name))
            element(testid).value = value
            if name == "temperature":
                show_temperature(value)


def show_seed(seed: int) -> None:
    """The seed box shows the seed of the last run (a link's), but while it is being typed in."""
    if element("seed") != document.activeElement:
        element("seed").value = str(seed)


def show_temperature(value: str) -> None:
    """Both temperature controls show `value`: the number box as it is, the slider at the
    nearest of its steps (a link's 3.5 leaves it at its end, 2)."""
    element("temperature-value").value = value
    element("temperature").value = value
