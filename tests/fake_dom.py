"""A stand-in for the browser's `js` module, enough DOM for the ui modules that only build
elements (createElement, attributes, children, text, focus), so their drawing runs in CPython.

`installed(monkeypatch)` puts it in sys.modules and drops the imported pyexplainer.ui modules, so
the next import binds them to it; `forget_ui()` after the test drops those bound to it (then
monkeypatch restores what was there before).
"""

from __future__ import annotations

import sys
import types
import xml.etree.ElementTree as ET


class Style:
    """element.style: properties set by name (style.borderColor) or by setProperty."""

    def setProperty(self, name: str, value: str) -> None:
        setattr(self, name, value)


class Element:
    def __init__(self, document: Document, tag: str, namespace: str | None):
        self.ownerDocument = document
        self.tagName = tag if namespace else tag.upper()  # as browsers report HTML tags
        self.namespaceURI = namespace
        self.attributes: dict[str, str] = {}
        self.children: list[Element] = []
        self.parentNode: Element | None = None
        self.style = Style()
        self._text = ""

    # attributes
    def setAttribute(self, name: str, value) -> None:
        self.attributes[name] = str(value)

    def getAttribute(self, name: str) -> str | None:
        return self.attributes.get(name)

    def hasAttribute(self, name: str) -> bool:
        return name in self.attributes

    @property
    def className(self) -> str:
        return self.attributes.get("class", "")

    @className.setter
    def className(self, value: str) -> None:
        self.attributes["class"] = value

    @property
    def id(self) -> str:
        return self.attributes.get("id", "")

    # children and text
    def appendChild(self, child: Element) -> Element:
        if child.parentNode is not None:
            child.parentNode.children.remove(child)
        child.parentNode = self
        self.children.append(child)
        return child

    def replaceChildren(self, *nodes: Element) -> None:
        for child in self.children:
            child.parentNode = None
        self.children, self._text = [], ""
        for node in nodes:
            self.appendChild(node)

    @property
    def textContent(self) -> str:
        return self._text + "".join(child.textContent for child in self.children)

    @textContent.setter
    def textContent(self, value: str) -> None:
        self.replaceChildren()
        self._text = value

    @property
    def innerHTML(self) -> str:
        raise NotImplementedError("the ui modules only set it")

    @innerHTML.setter
    def innerHTML(self, markup: str) -> None:
        """Parsed as XML in this element's namespace (the ui modules write it well-formed)."""
        self.replaceChildren(*(self._built(e) for e in ET.fromstring(f"<root>{markup}</root>")))

    def _built(self, parsed: ET.Element) -> Element:
        node = Element(self.ownerDocument, parsed.tag, self.namespaceURI)
        node.attributes = dict(parsed.attrib)
        node._text = parsed.text or ""
        for child in parsed:
            node.appendChild(node._built(child))
        return node

    # what the ui modules ask of a node
    def closest(self, selector: str) -> Element | None:
        """Only ".class" selectors."""
        assert selector.startswith(".") and " " not in selector, selector
        node = self
        while node is not None and selector[1:] not in node.className.split():
            node = node.parentNode
        return node

    def focus(self) -> None:
        self.ownerDocument.activeElement = self

    # for the tests
    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag: str, **attrs) -> list[Element]:
        """Descendants (self included) named `tag` whose attributes include `attrs` (names with
        underscores for dashes; a value of True only asks that the attribute be there)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            node
            for node in self.walk()
            if node.tagName.lower() == tag
            and all(
                name in node.attributes if value is True else node.attributes.get(name) == value
                for name, value in wanted.items()
            )
        ]

    def find(self, tag: str, **attrs) -> Element:
        (node,) = self.find_all(tag, **attrs)
        return node


class Document:
    def __init__(self):
        self.activeElement: Element | None = None

    def createElement(self, tag: str) -> Element:
        return Element(self, tag, None)

    def createElementNS(self, namespace: str, tag: str) -> Element:
        return Element(self, tag, namespace)


def _ui_modules() -> list[str]:
    return [name for name in sys.modules if name.startswith("pyexplainer.ui")]


def installed(monkeypatch) -> types.ModuleType:
    """A fresh fake `js` (js.document) in sys.modules, the ui modules to be imported anew."""
    js = types.ModuleType("js")
    js.document = Document()
    monkeypatch.setitem(sys.modules, "js", js)
    for name in _ui_modules():
        monkeypatch.delitem(sys.modules, name)
    return js


def forget_ui() -> None:
    """Drop the ui modules imported against the fake."""
    for name in _ui_modules():
        del sys.modules[name]
