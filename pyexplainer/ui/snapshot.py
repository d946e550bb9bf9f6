"""Save what is on screen as a picture: the overview and the open view, as SVG or PNG.

The part of the page is copied into an SVG <foreignObject> with the page's own stylesheet, each
heatmap canvas replaced by an image of its pixels; the PNG is that SVG drawn on a canvas. Only
this page's own bytes are involved, so the canvas stays exportable.
"""

from __future__ import annotations

import js  # Pyodide only
from pyodide.ffi import create_once_callable

XHTML_NS = "http://www.w3.org/1999/xhtml"
SCALE = 2  # PNG pixels per CSS pixel: sharp on a projector


def _styles() -> str:
    """The text of every stylesheet rule the page has (its own files only)."""
    rules = []
    for sheet in js.document.styleSheets:
        try:
            rules.extend(rule.cssText for rule in sheet.cssRules)
        except Exception:  # a sheet the page may not read
            continue
    return "\n".join(rules)


def _svg_text(root) -> tuple[str, int, int]:
    """root (an element) as a stand-alone SVG document: (its text, width, height)."""
    box = root.getBoundingClientRect()
    width, height = int(box.width) + 1, int(box.height) + 1
    copy = root.cloneNode(True)
    originals = root.querySelectorAll("canvas")
    for i, canvas in enumerate(copy.querySelectorAll("canvas")):
        image = js.document.createElementNS(XHTML_NS, "img")
        image.setAttribute("src", originals[i].toDataURL("image/png"))
        image.setAttribute("style", originals[i].getAttribute("style") or "")
        image.setAttribute("class", "matrix")
        canvas.replaceWith(image)
    body = js.document.createElementNS(XHTML_NS, "div")
    style = js.document.createElementNS(XHTML_NS, "style")
    style.textContent = _styles()
    body.setAttribute("style", f"width:{width}px;background:#fbfbfd")
    body.append(style, copy)
    inner = js.XMLSerializer.new().serializeToString(body)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<foreignObject x="0" y="0" width="{width}" height="{height}">{inner}</foreignObject>'
        "</svg>"
    )
    return svg, width, height


def view_svg(root):
    """A Blob holding root as SVG."""
    svg, _, _ = _svg_text(root)
    return js.Blob.new([svg], js.Object.fromEntries([["type", "image/svg+xml"]]))


async def view_png(root):
    """A Blob holding root as PNG (SCALE times the CSS size)."""
    svg, width, height = _svg_text(root)
    image = js.Image.new()

    def wait(resolve, reject):
        image.onload = create_once_callable(lambda *_: resolve(True))
        image.onerror = create_once_callable(lambda *_: reject("the picture could not be drawn"))

    loaded = js.Promise.new(create_once_callable(wait))
    image.src = "data:image/svg+xml;charset=utf-8," + js.encodeURIComponent(svg)
    await loaded
    canvas = js.document.createElement("canvas")
    canvas.width, canvas.height = width * SCALE, height * SCALE
    context = canvas.getContext("2d")
    context.scale(SCALE, SCALE)
    context.drawImage(image, 0, 0)

    def export(resolve, reject):
        canvas.toBlob(create_once_callable(resolve), "image/png")

    return await js.Promise.new(create_once_callable(export))
