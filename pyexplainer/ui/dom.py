"""Small helpers over the browser DOM. User text always goes in as text, never parsed as HTML;
only markup the code wrote from numbers and constants is parsed (fill_with_markup)."""

from __future__ import annotations

from html import escape

import js  # Pyodide only

document = js.document
SVG_NS = "http://www.w3.org/2000/svg"
FORM_FIELDS = ("INPUT", "SELECT", "TEXTAREA")  # tag names: their keys and clicks are their own


def element(testid: str):
    return document.querySelector(f'[data-testid="{testid}"]')


def _attribute_name(name: str) -> str:
    """A keyword argument's name as the attribute's: class_ -> class, data_stage -> data-stage."""
    return name.rstrip("_").replace("_", "-")


def _set_attributes(node, attrs: dict) -> None:
    for name, value in attrs.items():
        if value is not None:
            node.setAttribute(_attribute_name(name), str(value))


def make(tag: str, text: str = "", *children, class_: str | None = None, **attrs):
    """A new HTML element holding `text` as text, then `children`."""
    node = document.createElement(tag)
    if text:
        node.textContent = text
    if class_:
        node.className = class_
    _set_attributes(node, attrs)
    for child in children:
        node.appendChild(child)
    return node


def make_svg(tag: str, text: str = "", **attrs):
    """A new SVG element (attribute names as in SVG, underscores for dashes)."""
    node = document.createElementNS(SVG_NS, tag)
    if text:
        node.textContent = text
    _set_attributes(node, attrs)
    return node


def fill(parent, *children) -> None:
    """Replace parent's children."""
    parent.replaceChildren()
    for child in children:
        parent.appendChild(child)


def markup(tag: str, text: str = "", *children: str, **attrs) -> str:
    """One element as markup for fill_with_markup, named as make and make_svg name them: text
    and attribute values escaped, so no character of a label or a number becomes markup.
    A panel of hundreds of elements is then one call into the browser, not thousands."""
    names = "".join(
        f' {_attribute_name(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not None
    )
    return f"<{tag}{names}>{escape(text, quote=False)}{''.join(children)}</{tag}>"


def fill_with_markup(parent, markup: str) -> None:
    """Replace parent's children by `markup`, parsed in parent's namespace (SVG in SVG): for
    thousands of shapes at once. Only markup written from numbers and the code's constants,
    never user text (a token's label goes in as text, by make or make_svg)."""
    parent.innerHTML = markup


def options(select, items: list[tuple[str, str]], selected: str) -> None:
    """Fill a <select> with (value, label) items and select `selected`."""
    fill(select, *(make("option", label, value=value) for value, label in items))
    select.value = selected
