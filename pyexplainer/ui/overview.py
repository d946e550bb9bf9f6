"""The overview drawn as an SVG Sankey-style flow: the residual stream runs along the middle, each
block's layer norms, attention and MLP branch off above it and add back in. Node heights and link
widths are the real magnitudes of views.overview (the legend says which); a click on a node (or
Enter on it) opens that stage's view."""

from __future__ import annotations

from pyexplainer.messages import text
from pyexplainer.ui.dom import fill_with_markup, markup
from pyexplainer.views.overview import OverviewView

COLUMN_WIDTH = 38
NODE_WIDTH = 14
MAX_BAND = 46  # px, the largest magnitude of a quantity
STREAM_Y = 150  # the residual stream's centre line
BRANCH_Y = 62  # centre line of the branches (layer norms, attention, MLP)
HEIGHT = 250
# nodes that sit on the residual stream; the rest branch off it
ON_STREAM = ("tokens", "embedding", "attention_add", "mlp_add", "ln_f", "logits", "probabilities")
OFF_STREAM_LEFT = {"token_embedding": 95, "position_embedding": 205}  # y of the two lookups


def _short_id(node_id: str) -> str:
    return node_id.rpartition(".")[2]


def _centre_y(node_id: str) -> float:
    short = _short_id(node_id)
    if short in OFF_STREAM_LEFT:
        return OFF_STREAM_LEFT[short]
    return STREAM_Y if short in ON_STREAM else BRANCH_Y


def draw_overview(svg, view: OverviewView, locale: str, selected_stage: tuple | None) -> None:
    """Fill `svg` with the flow of `view`; the node of `selected_stage` is outlined."""
    largest = {}
    for node in view.nodes.values():
        largest[node.quantity] = max(largest.get(node.quantity, 0.0), node.magnitude)
    for link in view.links:
        largest[link.quantity] = max(largest.get(link.quantity, 0.0), link.magnitude)

    def band(magnitude: float, quantity: str) -> float:
        top = largest.get(quantity) or 1.0
        return max(2.0, MAX_BAND * magnitude / top)

    x = {nid: 20 + n.column * COLUMN_WIDTH for nid, n in view.nodes.items()}
    children = []  # markup: the labels are the catalogue's and numbers, escaped (ui.dom.markup)
    for link in view.links:
        x0, x1 = x[link.source] + NODE_WIDTH, x[link.target]
        y0, y1 = _centre_y(link.source), _centre_y(link.target)
        mid = (x0 + x1) / 2
        children.append(
            markup(
                "path",
                "",
                markup("title", f"{link.source} → {link.target}: {link.magnitude:.3g}"),
                d=f"M{x0},{y0} C{mid},{y0} {mid},{y1} {x1},{y1}",
                class_=f"flow-link {link.kind}",
                stroke_width=f"{band(link.magnitude, link.quantity):.1f}",
            )
        )
    for nid, node in view.nodes.items():
        height = band(node.magnitude, node.quantity) if node.quantity != "count" else MAX_BAND
        label = text(node.label_key, locale, **node.label_values)
        cy = _centre_y(nid)
        label_y = cy - height / 2 - 6 if cy <= STREAM_Y else cy + height / 2 + 14
        rect = markup(
            "rect",
            x=x[nid],
            y=f"{cy - height / 2:.1f}",
            width=NODE_WIDTH,
            height=f"{height:.1f}",
            rx=3,
            class_=f"kind-{node.stage[0]}",
        )
        name = markup(
            "text",
            label,
            x=x[nid] + NODE_WIDTH / 2,
            y=f"{label_y:.1f}",
            class_="flow-label",
            transform=f"rotate(-35 {x[nid] + NODE_WIDTH / 2} {label_y:.1f})",
        )
        children.append(
            markup(
                "g",
                "",
                rect,
                name,
                markup("title", f"{label}: {node.magnitude:.4g}"),
                class_="flow-node" + (" selected" if node.stage == selected_stage else ""),
                data_action="open-stage",
                data_stage=",".join(str(s) for s in node.stage),
                data_node=nid,
                data_magnitude=repr(node.magnitude),
                tabindex="0",
                role="button",
                aria_label=f"{label}: {node.magnitude:.3g}",
            )
        )
    width = 40 + (max(n.column for n in view.nodes.values()) + 1) * COLUMN_WIDTH
    svg.setAttribute("viewBox", f"0 -40 {width} {HEIGHT + 40}")
    svg.style.minWidth = f"{width * 0.75:.0f}px"  # big models scroll rather than shrink unreadably
    fill_with_markup(svg, "".join(children))
