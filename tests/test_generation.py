"""Generation with the key/value cache against recomputation and against the tests' own full
float64 passes and sampler, and the context limit."""

import numpy as np
import pytest

from pyexplainer.core.generation import ContextLengthError, KVCache, forward, generate
from pyexplainer.model_dir import open_model_dir
from tests.conftest import TINY, tiny_weights
from tests.generation_reference import reference_generate


@pytest.fixture(scope="module")
def model(tiny_int8):
    return open_model_dir(tiny_int8)


@pytest.mark.parametrize(
    "settings",
    [
        {"temperature": 0.0},
        {"temperature": 1.0, "seed": 7},
        {"temperature": 0.8, "top_k": 40, "top_p": 0.9, "seed": 1},
    ],
)
def test_cache_and_recompute_generate_the_same_tokens(model, settings):
    c = model.manifest.config
    prompt = model.tokenizer.encode("The teacher asked the students to")
    cached = generate(model.run, c, prompt, 12, use_cache=True, **settings)
    recomputed = generate(model.run, c, prompt, 12, use_cache=False, **settings)
    assert cached == recomputed and len(cached) == 12


def test_greedy_generation_follows_the_argmax_of_full_passes(model):
    c = model.manifest.config
    ids = model.tokenizer.encode("Once upon a time")
    new = generate(model.run, c, ids, 5, temperature=0.0)
    for token in new:
        assert token == int(np.argmax(forward(model.run, c, ids).last_logits))
        ids = ids + [token]


def test_cache_grows_one_position_per_step(model):
    c = model.manifest.config
    trace = forward(model.run, c, [10, 20, 30])
    assert trace.present_keys.shape == (c.n_layer, c.n_head, 3, c.head_dim)
    step = forward(model.run, c, [40], KVCache(trace.present_keys, trace.present_values))
    assert step.past_length == 3 and step.q.shape[2] == 1
    assert step.present_keys.shape[2] == 4


def test_context_limit_is_named_before_running(model):
    c = model.manifest.config
    with pytest.raises(ContextLengthError, match="65 tokens is more than this model's context"):
        generate(model.run, c, [1] * 60, 6)
    assert len(generate(model.run, c, [1] * 60, 5)) == 5  # fills the context exactly
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, 50257\)"):
        forward(model.run, c, [50257])


def test_trace_fields_are_the_models_outputs():
    import dataclasses

    from pyexplainer.core.trace import TRACE_OUTPUTS, Trace

    fields = {f.name for f in dataclasses.fields(Trace)}
    assert fields - {"input_ids", "past_length"} == set(TRACE_OUTPUTS)


def test_a_trace_extended_by_cached_steps_equals_one_full_pass(model):
    from pyexplainer.core.generation import cache_after
    from pyexplainer.core.trace import TRACE_OUTPUTS

    c = model.manifest.config
    ids = model.tokenizer.encode("The teacher asked the students to write")
    joined = forward(model.run, c, ids[:4])
    for token in ids[4:]:  # one token at a time through the cache, as the page generates
        joined = joined.extended(forward(model.run, c, [token], cache_after(joined)))
    full = forward(model.run, c, ids)
    assert joined.input_ids.tolist() == ids and joined.past_length == 0
    for name in TRACE_OUTPUTS:
        np.testing.assert_allclose(
            getattr(joined, name), getattr(full, name), atol=2e-4, err_msg=name
        )
    with pytest.raises(ValueError, match="starts at position"):
        joined.extended(forward(model.run, c, ids[:2]))


class SpyRunner:
    """The real runner, recording what each call was fed and what it returned."""

    def __init__(self, run):
        self.run, self.calls = run, []

    def __call__(self, feeds):
        outputs = self.run(feeds)
        self.calls.append((feeds, outputs))
        return outputs


def test_each_cached_step_feeds_one_token_and_matches_a_full_reference_pass(tiny_fp32):
    model = open_model_dir(tiny_fp32)
    c = model.manifest.config
    prompt = model.tokenizer.encode("The teacher asked")
    spy = SpyRunner(model.run)
    new = generate(spy, c, prompt, 6, temperature=0.0)
    expected, reference_logits = reference_generate(
        tiny_weights(), TINY["n_layer"], TINY["n_head"], prompt, 6, temperature=0
    )
    assert new == expected
    assert len(spy.calls) == 6  # the last token is chosen, never run
    first_feeds, _ = spy.calls[0]
    assert first_feeds["input_ids"].tolist() == prompt and first_feeds["past_keys"].shape[2] == 0
    for step, ((feeds, _), (_, previous)) in enumerate(
        zip(spy.calls[1:], spy.calls, strict=False), start=1
    ):
        assert feeds["input_ids"].tolist() == [new[step - 1]], step  # only the newest token
        grown = len(prompt) + step - 1
        assert feeds["past_keys"].shape[2] == feeds["past_values"].shape[2] == grown, step
        np.testing.assert_array_equal(feeds["past_keys"], previous["present_keys"])
        np.testing.assert_array_equal(feeds["past_values"], previous["present_values"])
    for step, ((_, outputs), logits) in enumerate(zip(spy.calls, reference_logits, strict=True)):
        np.testing.assert_allclose(outputs["last_logits"], logits, atol=1e-4, err_msg=str(step))


@pytest.mark.parametrize(
    "settings",
    [{"temperature": 1.0}, {"temperature": 0.8, "top_k": 40, "top_p": 0.9}],
    ids=["softmax", "top-k and top-p"],
)
def test_seeded_sampling_matches_the_reference_sampler(tiny_fp32, settings):
    model = open_model_dir(tiny_fp32)
    c = model.manifest.config
    prompt = model.tokenizer.encode("Once upon a time")
    runs = {}
    for seed in (1, 2):
        runs[seed] = generate(model.run, c, prompt, 6, seed=seed, **settings)
        expected, _ = reference_generate(
            tiny_weights(), TINY["n_layer"], TINY["n_head"], prompt, 6, seed=seed, **settings
        )
        assert runs[seed] == expected, seed
    assert runs[1] != runs[2]
