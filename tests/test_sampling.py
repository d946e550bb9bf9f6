"""Sampling over the full vocabulary, checked against a plain-Python reference."""

import math

import numpy as np
import pytest

from pyexplainer.core.sampling import next_token_distribution, sample_next_token, top_tokens

# The reference's notion of "mass reaches top_p": within rounding of the float64 softmax.
ROUNDING = 1e-9


def reference_distribution(logits, temperature=1.0, top_k=0, top_p=1.0):
    """The spec, in plain Python: temperature -> softmax -> top-k -> top-p, ties by id."""
    logits = [float(x) for x in logits]
    ids = range(len(logits))
    if temperature == 0:
        best = min(ids, key=lambda i: (-logits[i], i))
        return [1.0 if i == best else 0.0 for i in ids]
    top = max(logits)
    weights = [math.exp((x - top) / temperature) for x in logits]
    total = math.fsum(weights)
    probs = [w / total for w in weights]

    def ranked(p):
        return sorted(ids, key=lambda i: (-p[i], i))

    def keep_only(p, kept):
        mass = math.fsum(p[i] for i in kept)
        return [p[i] / mass if i in kept else 0.0 for i in ids]

    if 0 < top_k < len(logits):
        probs = keep_only(probs, set(ranked(probs)[:top_k]))
    if top_p < 1:
        kept, mass = set(), 0.0
        for i in ranked(probs):
            kept.add(i)
            mass += probs[i]
            if mass >= top_p - ROUNDING:
                break
        probs = keep_only(probs, kept)
    return probs


def reference_inverse_cdf(probs, u):
    """First id whose cumulative probability exceeds u (probabilities summing to 1)."""
    cumulative = 0.0
    for i, p in enumerate(probs):
        cumulative += p
        if u < cumulative:
            return i
    return max(i for i, p in enumerate(probs) if p > 0)


def random_logits(v, seed):
    return np.random.default_rng(seed).normal(0.0, 3.0, size=v)


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"),
    [
        (1.0, 0, 1.0),
        (0.7, 0, 1.0),
        (2.5, 0, 1.0),
        (1.0, 10, 1.0),
        (1.0, 0, 0.9),
        (0.8, 40, 0.5),
        (1.3, 299, 0.95),
        (0.0, 0, 1.0),
    ],
)
def test_matches_reference(temperature, top_k, top_p):
    logits = random_logits(300, seed=1)
    got = next_token_distribution(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    want = reference_distribution(logits, temperature, top_k, top_p)
    assert got.shape == (300,) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_greedy_is_one_hot_on_argmax_with_ties_to_lowest_id():
    probs = next_token_distribution([1.0, 5.0, 5.0, 2.0], temperature=0)
    assert probs.tolist() == [0.0, 1.0, 0.0, 0.0]


def test_greedy_ignores_top_k_and_top_p():
    logits = random_logits(50, seed=2)
    probs = next_token_distribution(logits, temperature=0, top_k=5, top_p=0.3)
    assert probs.tolist() == reference_distribution(logits, temperature=0)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_top_k_1_is_greedy(temperature):
    for logits in (random_logits(100, seed=3), [1.0, 5.0, 5.0, 2.0]):
        got = next_token_distribution(logits, temperature=temperature, top_k=1)
        np.testing.assert_array_equal(got, next_token_distribution(logits, temperature=0))


def test_top_k_with_ties_keeps_exactly_k_lowest_ids_first():
    logits = [0.0, 2.0, 1.0, 2.0, 2.0, 1.0]
    two = next_token_distribution(logits, top_k=2)
    np.testing.assert_allclose(two, [0, 0.5, 0, 0.5, 0, 0], atol=1e-15)
    four = next_token_distribution(logits, top_k=4)
    assert np.flatnonzero(four).tolist() == [1, 2, 3, 4]  # the 1.0 tie goes to id 2, not 5
    np.testing.assert_allclose(four, reference_distribution(logits, top_k=4), rtol=1e-12)


@pytest.mark.parametrize("top_k", [-1, 0, 6, 100])
def test_top_k_off(top_k):
    logits = random_logits(6, seed=4)
    np.testing.assert_allclose(
        next_token_distribution(logits, top_k=top_k), reference_distribution(logits), rtol=1e-12
    )


def test_tiny_top_p_keeps_only_the_argmax():
    logits = random_logits(1000, seed=5)
    probs = next_token_distribution(logits, top_p=1e-9)
    assert np.flatnonzero(probs).tolist() == [int(np.argmax(logits))]
    assert probs.max() == 1.0


def test_top_p_boundary_mass_reaching_p_exactly():
    logits = np.log([0.5, 0.25, 0.25])
    np.testing.assert_allclose(next_token_distribution(logits, top_p=0.5), [1, 0, 0])
    # 0.5 + 0.25 reaches 0.75: two tokens, the 0.25 tie going to the lower id.
    np.testing.assert_allclose(next_token_distribution(logits, top_p=0.75), [2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(
        next_token_distribution(logits, top_p=0.75 + 1e-6), [0.5, 0.25, 0.25]
    )
    # 0.4 + 0.3 + 0.2 is 0.9000000000000001 or 0.8999999999999999 depending on rounding.
    probs = next_token_distribution(np.log([0.1, 0.4, 0.2, 0.3]), top_p=0.9)
    np.testing.assert_allclose(probs, [0, 4 / 9, 2 / 9, 3 / 9])


def test_top_p_is_measured_on_what_top_k_kept():
    logits = np.log([0.5, 0.3, 0.2])
    # top-k=2 leaves [0.625, 0.375]: 0.6 of that is reached by the first token alone.
    np.testing.assert_allclose(next_token_distribution(logits, top_k=2, top_p=0.6), [1, 0, 0])
    np.testing.assert_allclose(
        next_token_distribution(logits, top_k=2, top_p=0.7), [0.625, 0.375, 0]
    )


def test_all_equal_logits():
    logits = np.full(8, 3.0)
    np.testing.assert_allclose(next_token_distribution(logits), np.full(8, 1 / 8))
    np.testing.assert_allclose(next_token_distribution(logits, top_k=3), [1 / 3] * 3 + [0] * 5)
    np.testing.assert_allclose(next_token_distribution(logits, top_p=0.5), [0.25] * 4 + [0] * 4)
    assert next_token_distribution(logits, temperature=0).tolist() == [1.0] + [0.0] * 7


def test_tiny_temperature_is_stable():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        wide = next_token_distribution([-1e4, 0.0, 1e4, 3.0], temperature=1e-6)
        close = next_token_distribution([0.0, 1.0, 1.0 - 1e-6], temperature=1e-6)
    assert wide.tolist() == [0.0, 0.0, 1.0, 0.0]
    # Logits 1e-6 apart at temperature 1e-6 are exactly one unit apart: weights 1 and 1/e.
    np.testing.assert_allclose(
        close, [0, 1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1))]
    )


def test_huge_temperature_is_near_uniform():
    logits = random_logits(500, seed=6)
    probs = next_token_distribution(logits, temperature=1e6)
    np.testing.assert_allclose(probs, np.full(500, 1 / 500), rtol=1e-4)


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"),
    [(1.0, 0, 1.0), (0.01, 0, 1.0), (100.0, 0, 1.0), (1.0, 50, 1.0), (0.9, 0, 0.92), (0.0, 0, 1.0)],
)
def test_full_vocabulary_sums_to_one(temperature, top_k, top_p):
    logits = random_logits(50257, seed=7).astype(np.float32)
    probs = next_token_distribution(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    assert probs.shape == (50257,)
    assert np.all(probs >= 0)
    assert math.isclose(probs.sum(), 1.0, abs_tol=1e-12)
    if top_k:
        assert np.count_nonzero(probs) == top_k


def test_banned_tokens_have_zero_probability_and_are_never_drawn():
    logits = [0.0, -np.inf, 0.0]
    np.testing.assert_allclose(next_token_distribution(logits), [0.5, 0, 0.5])
    rng = np.random.default_rng(8)
    draws = {sample_next_token(logits, rng=rng) for _ in range(200)}
    assert draws == {0, 2}


def test_a_banned_list_takes_its_tokens_out_before_everything_else():
    """The distribution without banned ids is the reference's over the logits with those ids at
    -inf; greedy skips a banned argmax; a draw never gives one; the logits stay as they were."""
    logits = random_logits(30, seed=4)
    before, banned = logits.copy(), (int(np.argmax(logits)), 0, 7)
    masked = logits.copy()
    masked[list(banned)] = -np.inf
    for temperature, top_k, top_p in [(1.0, 0, 1.0), (0.8, 5, 0.9), (0.0, 0, 1.0)]:
        got = next_token_distribution(
            logits, temperature=temperature, top_k=top_k, top_p=top_p, banned=banned
        )
        np.testing.assert_allclose(
            got, reference_distribution(masked, temperature, top_k, top_p), atol=1e-12
        )
        assert not got[list(banned)].any()
    rng = np.random.default_rng(3)
    flat = np.zeros(30)
    draws = {sample_next_token(flat, temperature=5.0, banned=banned, rng=rng) for _ in range(500)}
    assert draws == set(range(30)) - set(banned)
    np.testing.assert_array_equal(logits, before)


def test_does_not_modify_the_logits():
    logits = random_logits(20, seed=9)
    before = logits.copy()
    next_token_distribution(logits, temperature=0.5, top_k=5, top_p=0.8)
    np.testing.assert_array_equal(logits, before)


def test_sampling_is_reproducible_with_a_seed():
    logits = random_logits(1000, seed=10)

    def draws(seed):
        rng = np.random.default_rng(seed)
        return [sample_next_token(logits, temperature=1.5, top_p=0.9, rng=rng) for _ in range(50)]

    assert draws(123) == draws(123)
    assert draws(123) != draws(124)


def test_sample_is_the_inverse_cdf_of_one_uniform_draw():
    logits = random_logits(40, seed=11)
    options = {"temperature": 1.2, "top_k": 20, "top_p": 0.8}
    probs = reference_distribution(logits, 1.2, 20, 0.8)
    rng, same_rng = np.random.default_rng(12), np.random.default_rng(12)
    for _ in range(200):
        token = sample_next_token(logits, rng=rng, **options)
        assert token == reference_inverse_cdf(probs, same_rng.random())


class ExtremeRandom:
    """A stand-in for np.random.Generator whose random() returns one fixed value."""

    def __init__(self, u):
        self.u = u

    def random(self):
        return self.u


def test_extreme_uniform_draws_pick_the_first_and_last_drawable_tokens():
    logits = [-np.inf, 1.0, 2.0, 3.0, -np.inf]
    assert sample_next_token(logits, rng=ExtremeRandom(0.0)) == 1
    assert sample_next_token(logits, rng=ExtremeRandom(1 - 2**-53)) == 3


def test_greedy_sampling_always_picks_the_argmax():
    rng = np.random.default_rng(13)
    assert {sample_next_token([1.0, 5.0, 5.0, 2.0], temperature=0, rng=rng) for _ in range(50)} == {
        1
    }


def test_empirical_frequencies_match_the_distribution():
    logits = random_logits(8, seed=14)
    options = {"temperature": 0.8, "top_k": 6, "top_p": 0.97}
    probs = np.array(reference_distribution(logits, 0.8, 6, 0.97))
    rng = np.random.default_rng(15)
    n = 20_000
    counts = np.bincount(
        [sample_next_token(logits, rng=rng, **options) for _ in range(n)], minlength=8
    )
    kept = probs > 0
    assert np.all(counts[~kept] == 0)
    expected = n * probs[kept]
    chi_square = float(((counts[kept] - expected) ** 2 / expected).sum())
    # The 99.9th percentile of chi-square with up to 5 degrees of freedom (6 kept tokens) is 20.5.
    assert 2 <= kept.sum() <= 6
    assert chi_square < 21.0, (counts, expected)


def test_top_tokens_ranks_by_probability_then_id():
    probs = np.array([0.1, 0.3, 0.05, 0.3, 0.25])
    assert top_tokens(probs, 3) == [(1, 0.3), (3, 0.3), (4, 0.25)]
    assert [i for i, _ in top_tokens(probs, 10)] == [1, 3, 4, 0, 2]
    assert top_tokens(probs, 0) == []
    assert all(type(i) is int and type(p) is float for i, p in top_tokens(probs, 5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": -0.5}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_p": float("nan")}, "top_p"),
        ({"top_k": 2.5}, "top_k"),
    ],
)
def test_bad_options_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        next_token_distribution([0.0, 1.0], **kwargs)
    with pytest.raises(ValueError, match=message):
        sample_next_token([0.0, 1.0], rng=np.random.default_rng(0), **kwargs)


@pytest.mark.parametrize(
    ("logits", "message"),
    [
        ([0.0, float("nan"), 1.0], "NaN"),
        ([0.0, float("inf")], r"\+inf"),
        ([-np.inf, -np.inf], "all logits are -inf"),
        ([], "non-empty 1-D"),
        ([[0.0, 1.0]], "non-empty 1-D"),
    ],
)
def test_bad_logits_raise_clear_errors(logits, message):
    with pytest.raises(ValueError, match=message):
        next_token_distribution(logits)


def test_top_tokens_rejects_negative_n():
    with pytest.raises(ValueError, match="n must be >= 0"):
        top_tokens(np.array([0.5, 0.5]), -1)
