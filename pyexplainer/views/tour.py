"""The guided tour a teacher projects: step cards in the order of The Illustrated GPT-2, each
quoting real numbers of the current trace and pointing at one stage of the overview.

Card texts live in the message catalogue ("tour.<id>.title", "tour.<id>.body"), filled from the
card's `values`. The tour follows the last token this step computed, the one whose next token
the model predicts, through block 0 and head 0, and then to the output.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pyexplainer.config import ModelConfig
from pyexplainer.core.attention import causal_mask
from pyexplainer.core.tokenizer import Tokenizer
from pyexplainer.core.trace import Trace
from pyexplainer.views.attention import attention_row
from pyexplainer.views.characters import unfinished_tail
from pyexplainer.views.layernorm import layer_norm_view
from pyexplainer.views.mlp import mlp_view
from pyexplainer.views.overview import (
    ATTRIBUTION_STAGE,
    EMBEDDING_STAGE,
    OUTPUT_STAGE,
    StageId,
    attention_stage,
    layernorm_stage,
    mlp_stage,
    residual_stage,
)
from pyexplainer.views.predictions import SamplingSettings, output_view
from pyexplainer.views.selection import covered_tokens
from pyexplainer.views.tokens import TokenView

Value = int | float | str


@dataclasses.dataclass(frozen=True)
class TourCard:
    id: str
    title_key: str  # "tour.<id>.title"
    body_key: str  # "tour.<id>.body"
    stage: StageId  # what the overview highlights (and the page may open)
    values: dict[str, Value]  # fills the title and the body


def tour(
    trace: Trace,
    config: ModelConfig,
    tokenizer: Tokenizer,
    tokens: Sequence[TokenView],
    settings: SamplingSettings,
) -> tuple[TourCard, ...]:
    """The tour's cards for this trace, in order."""
    covered = covered_tokens(trace, tokens)
    position = len(covered) - 1  # the last token: its output is the next-token prediction
    row = position - trace.past_length
    label = covered[position].label
    n_layer, n_head, d_head = config.n_layer, config.n_head, config.head_dim
    dims = {"n_embd": config.n_embd, "n_head": n_head, "d_head": d_head}
    attention = attention_row(trace, tokens, 0, 0, position)
    first_key = 0  # the scores card quotes the query against the first token's key
    strongest = int(np.argmax(attention.weights))
    mlp = mlp_view(trace, tokens, 0, position)
    ln1 = layer_norm_view(trace, config, tokens, "ln1", 0, position)
    lnf = layer_norm_view(trace, config, tokens, "lnf", n_layer, position)
    pending = unfinished_tail(tokenizer, [t.token_id for t in covered])
    model = output_view(trace, tokenizer, SamplingSettings(), n=2, pending=pending)
    sampled = output_view(trace, tokenizer, settings, n=1, pending=pending)
    top, second = model.bars
    mask = causal_mask(len(trace.input_ids), len(covered))  # (T, S) of this whole step
    last_token = {"last_label": label, "last_id": int(trace.input_ids[row])}
    query = {"query_label": label, "position": position}

    def card(title_key: str, body_key: str, stage: StageId, **values: Value) -> TourCard:
        """A card whose id is its keys' middle part: "tour.tokens.title" -> "tokens"."""
        return TourCard(title_key.split(".")[1], title_key, body_key, stage, values)

    prefix = len(tokenizer.prompt_prefix)  # tokens the model reads before the text ([CLS])

    return (
        card(
            "tour.autoregression.title",
            "tour.autoregression.body",
            OUTPUT_STAGE,
            n_tokens=len(covered),
            top_label=top.label,
            top_probability=top.model_probability,
        ),
        card(
            "tour.tokens.title",
            "tour.tokens.body_prefix" if prefix else "tour.tokens.body",
            EMBEDDING_STAGE,
            **({"n_text": len(covered) - prefix} if prefix else {}),
            n_tokens=len(covered),
            vocab_size=config.vocab_size,
            first_label=covered[0].label,
            first_id=covered[0].token_id,
            **last_token,
        ),
        card(
            "tour.token_embedding.title",
            "tour.token_embedding.body",
            EMBEDDING_STAGE,
            **last_token,
            **dims,
            first_value=float(trace.token_embedding[row, 0]),
            norm=_norm(trace.token_embedding[row]),
        ),
        card(
            "tour.position_embedding.title",
            "tour.position_embedding.body",
            EMBEDDING_STAGE,
            **last_token,
            position=position,
            first_value=float(trace.position_embedding[row, 0]),
            norm=_norm(trace.position_embedding[row]),
        ),
        card(
            "tour.embedding_sum.title",
            "tour.embedding_sum.body",
            EMBEDDING_STAGE,
            **last_token,
            norm=_norm(trace.residual[0, row]),
        ),
        card("tour.blocks.title", "tour.blocks.body", residual_stage(0), n_layer=n_layer),
        card(
            "tour.layer_norm.title",
            "tour.layer_norm.body",
            layernorm_stage(0, "ln1"),
            **last_token,
            **dims,
            mean=ln1.mean,
            std=ln1.std,
        ),
        card("tour.qkv.title", "tour.qkv.body", attention_stage(0), **dims),
        card(
            "tour.scores.title",
            "tour.scores.body",
            attention_stage(0),
            **query,
            key_label=attention.key_labels[first_key],
            score=float(attention.scores[first_key]),
        ),
        card(
            "tour.scale.title",
            "tour.scale.body",
            attention_stage(0),
            **dims,
            scale=attention.scale,
            score=float(attention.scores[first_key]),
            scaled=float(attention.scaled[first_key]),
        ),
        card(
            "tour.mask.title",
            "tour.mask.body",
            attention_stage(0),
            **query,
            allowed=int(attention.mask.sum()),
            cells=int(mask.size),
            masked=int(np.count_nonzero(~mask)),
        ),
        card(
            "tour.softmax.title",
            "tour.softmax.body",
            attention_stage(0),
            **query,
            key_label=attention.key_labels[strongest],
            weight=float(attention.weights[strongest]),
        ),
        card(
            "tour.weighted_sum.title",
            "tour.weighted_sum.body",
            attention_stage(0),
            **query,
            **dims,
            norm=_norm(attention.model_head_output),
        ),
        card(
            "tour.merge_projection.title",
            "tour.merge_projection.body",
            attention_stage(0),
            **query,
            **dims,
            norm=_norm(attention.projected),
        ),
        card(
            "tour.residual_add.title",
            "tour.residual_add.body",
            residual_stage(0),
            label=label,
            before=_norm(attention.residual_before),
            added=_norm(attention.projected),
            after=_norm(attention.residual_after),
        ),
        card(
            "tour.mlp.title",
            "tour.mlp.body",
            mlp_stage(0),
            label=label,
            **dims,
            units=int(mlp.pre.size),
            norm=_norm(mlp.output),
        ),
        card(
            "tour.gelu.title",
            "tour.gelu.body",
            mlp_stage(0),
            label=label,
            units=int(mlp.pre.size),
            off_below=mlp.off_below,
            off_share=mlp.off_share,
        ),
        card(
            "tour.deeper.title",
            "tour.deeper.body",
            residual_stage(n_layer - 1),
            label=label,
            first=_norm(trace.residual[0, row]),
            last=_norm(trace.residual[n_layer, row]),
            last_layer=n_layer - 1,
        ),
        card(
            "tour.final_norm.title",
            "tour.final_norm.body",
            layernorm_stage(n_layer, "lnf"),
            label=label,
            mean=lnf.mean,
            std=lnf.std,
        ),
        card(
            "tour.logits.title",
            "tour.logits.body",
            OUTPUT_STAGE,
            vocab_size=model.vocab_size,
            top_label=top.label,
            top_logit=top.logit,
        ),
        card(
            "tour.softmax_output.title",
            "tour.softmax_output.body",
            OUTPUT_STAGE,
            vocab_size=model.vocab_size,
            top_label=top.label,
            top_probability=top.model_probability,
            second_label=second.label,
            second_probability=second.model_probability,
        ),
        card(
            "tour.sampling.title",
            "tour.sampling.body",
            OUTPUT_STAGE,
            temperature=settings.temperature,
            top_k=settings.top_k,
            top_p=settings.top_p,
            kept=sampled.kept,
            top_label=sampled.bars[0].label,
            top_probability=sampled.bars[0].probability,
        ),
        card(
            "tour.generation.title",
            "tour.generation.body",
            OUTPUT_STAGE,
            cached=int(trace.present_keys.shape[2]),
            n_layer=n_layer,
            n_head=n_head,
        ),
        card(
            "tour.attribution.title",
            "tour.attribution.body",
            ATTRIBUTION_STAGE,
            top_label=top.label,
            top_logit=top.logit,
            std=lnf.std,
            n_parts=1 + n_layer * (n_head + 2),
        ),
    )


def _norm(x: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(x, dtype=np.float64)))
