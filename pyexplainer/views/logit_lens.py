"""The logit lens as a grid: for every depth of the residual stream (the embeddings, then after
each block) and every position, the tokens the final layer norm and output layer would predict
from it, had the model stopped there (nostalgebraist, "interpreting GPT: the logit lens", 2020).

The last depth is the model's real prediction. Along a column one sees at which block the model
settles on its answer; a cell is marked when its top token is the one that really comes next.
"""

from __future__ import annotations

import dataclasses

from pyexplainer.core.lens import LogitLens
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.views.tokens import TokenView


@dataclasses.dataclass(frozen=True)
class LensCell:
    depth: int  # 0 = the embeddings, d = after block d - 1
    position: int
    token_ids: tuple[int, ...]  # the K most probable, first first
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    is_next: bool  # the top token is the token at position + 1 (never for the last position)


@dataclasses.dataclass(frozen=True)
class LogitLensView:
    tokens: tuple[TokenView, ...]  # the columns
    cells: tuple[tuple[LensCell, ...], ...]  # (L+1, T): rows are depths
    n_layers: int

    @property
    def final_agrees(self) -> tuple[int, ...]:
        """Per position, the first depth from which the top token is the final one for good."""
        firsts = []
        for position in range(len(self.tokens)):
            column = [row[position].token_ids[0] for row in self.cells]
            depth = len(column) - 1
            while depth > 0 and column[depth - 1] == column[-1]:
                depth -= 1
            firsts.append(depth)
        return tuple(firsts)


def logit_lens_view(
    lens: LogitLens, tokenizer: Tokenizer, tokens: list[TokenView]
) -> LogitLensView:
    depths, positions, k = lens.ids.shape  # (L+1, T, K)
    if positions != len(tokens):
        raise ValueError(f"the lens covers {positions} positions, the text has {len(tokens)}")
    labels = tokenizer.token_labels(lens.ids.reshape(-1).tolist())  # one decode for the grid
    following = [t.token_id for t in tokens[1:]] + [-1]
    cells = tuple(
        tuple(
            LensCell(
                depth,
                position,
                tuple(int(i) for i in lens.ids[depth, position]),
                tuple(
                    labels[
                        (depth * positions + position) * k : (depth * positions + position + 1) * k
                    ]
                ),
                tuple(float(p) for p in lens.probs[depth, position]),
                int(lens.ids[depth, position, 0]) == following[position],
            )
            for position in range(positions)
        )
        for depth in range(depths)
    )
    return LogitLensView(tuple(tokens), cells, depths - 1)
