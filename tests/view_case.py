"""A traced prompt for the view tests: the tiny fp32 model's trace of it, its token views, the
same prompt fed in two chunks through the key/value cache, and the tests' own loop reference."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pyexplainer.config import ModelConfig
from pyexplainer.core.generation import cache_after, forward
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.trace import Trace
from pyexplainer.model_dir import open_model_dir
from pyexplainer.views.tokens import TokenView, token_views
from tests.conftest import TINY, tiny_weights
from tests.gpt2_reference import reference_forward

TEXT = "The cat sat on the mat because it was warm."
CACHED = 5  # the chunked trace runs the first CACHED tokens, then the rest after them


@dataclasses.dataclass(frozen=True)
class ViewCase:
    config: ModelConfig
    tokenizer: Tokenizer
    ids: list[int]
    tokens: list[TokenView]
    trace: Trace  # the whole prompt in one pass
    chunked: Trace  # tokens CACHED .. T - 1, after the first CACHED through the cache
    reference: dict  # reference_forward of the whole prompt (float64)


def view_case(folder: Path) -> ViewCase:
    model = open_model_dir(folder)
    c = model.manifest.config
    ids = model.tokenizer.encode(TEXT)
    first = forward(model.run, c, ids[:CACHED])
    return ViewCase(
        config=c,
        tokenizer=model.tokenizer,
        ids=ids,
        tokens=token_views(model.tokenizer, TEXT, ids, []),
        trace=forward(model.run, c, ids),
        chunked=forward(model.run, c, ids[CACHED:], cache_after(first)),
        reference=reference_forward(ids, tiny_weights(), TINY["n_layer"], TINY["n_head"]),
    )
