"""View models, in CPython: what the page's panels are built from."""

import numpy as np

from pyexplainer.views.predictions import SamplingSettings, predictions
from pyexplainer.views.tokens import token_views


def test_predictions_are_the_sampling_distribution_without_cut_tokens(tiny_int8):
    from pyexplainer.model_dir import open_model_dir

    tok = open_model_dir(tiny_int8).tokenizer
    logits = np.zeros(50257)
    logits[[10, 20, 30]] = [3.0, 2.0, 1.0]
    shown = predictions(tok, logits, SamplingSettings(top_k=2), n=10)
    assert [p.token_id for p in shown] == [10, 20]
    e = np.exp([3.0, 2.0])
    assert np.allclose([p.probability for p in shown], e / e.sum())
    full = np.exp(logits - logits.max())
    assert np.isclose(shown[0].model_probability, full[10] / full.sum())
    assert shown[0].label == tok.token_labels([10])[0]


def test_token_views_carry_spans_and_mark_generated_tokens(tiny_int8):
    from pyexplainer.model_dir import open_model_dir

    tok = open_model_dir(tiny_int8).tokenizer
    text = "Hi 世界"
    ids = tok.encode(text)
    views = token_views(tok, text, ids, [13])
    assert [v.token_id for v in views] == ids + [13]
    assert views[0].label == "Hi" and (views[0].start, views[0].end) == (0, 2)
    assert views[-1].generated and views[-1].start == -1
    assert not any(v.generated for v in views[:-1])
