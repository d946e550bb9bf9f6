"""The logit lens grid and the what-if comparison as the page shows them: on lens outputs made up
to hit each case, and on logits compared with plain numpy."""

import numpy as np
import pytest

from pyexplainer.core.ablation import Ablation
from pyexplainer.core.lens import LogitLens
from pyexplainer.views.logit_lens import logit_lens_view
from pyexplainer.views.tokens import TokenView
from pyexplainer.views.whatif import what_if_view
from tests.conftest import TINY
from tests.view_case import view_case


@pytest.fixture(scope="module")
def case(tiny_fp32):
    return view_case(tiny_fp32)


def test_lens_grid_labels_and_marks_the_real_next_token(case):
    depths, t, k = TINY["n_layer"] + 1, len(case.ids), 3
    ids = np.zeros((depths, t, k), dtype=np.int64)
    ids[..., 0] = 999
    ids[1, 2, 0] = case.ids[3]  # depth 1 guesses the token that follows position 2
    ids[2, t - 1, 0] = case.ids[0]  # the last position has no next token to match
    ids[..., 1], ids[..., 2] = 11, 13
    probs = np.tile(np.array([0.5, 0.3, 0.1], np.float32), (depths, t, 1))
    view = logit_lens_view(LogitLens(probs, ids, 0), case.tokenizer, case.tokens)
    assert len(view.cells) == depths and all(len(row) == t for row in view.cells)
    marked = [(c.depth, c.position) for row in view.cells for c in row if c.is_next]
    assert marked == [(1, 2)]
    cell = view.cells[0][0]
    assert cell.labels == tuple(case.tokenizer.token_labels([999, 11, 13]))
    assert cell.probabilities == pytest.approx((0.5, 0.3, 0.1))


def test_lens_reports_the_depth_from_which_the_answer_holds():
    ids = np.array([[[1], [6]], [[2], [5]], [[2], [5]]])  # (3 depths, 2 positions, K=1)
    probs = np.ones(ids.shape, np.float32)

    class Labels:  # the tokenizer's part the view uses
        def token_bytes(self, token_id):
            return str(token_id).encode()

        def continues_word(self, token_id):
            return False

    tokens = [TokenView(p, 0, "x", 0, 1, False) for p in range(2)]
    view = logit_lens_view(LogitLens(probs, ids, 0), Labels(), tokens)
    assert view.settled_depth == 1  # the last position's answer 5 is on top from depth 1
    ids[1, 1, 0] = 7
    view = logit_lens_view(LogitLens(probs, ids, 0), Labels(), tokens)
    assert view.settled_depth == 2  # ... or only at the last depth


def test_lens_of_the_last_positions_covers_the_last_tokens(case):
    t = len(case.ids)
    ids = np.tile(np.array(case.ids[-2:])[None, :, None], (3, 1, 1))  # each guesses itself
    ids[:, 0, 0] = case.ids[-1]  # position t - 2 guesses the token that follows it
    lens = LogitLens(np.ones(ids.shape, np.float32), ids, t - 2)
    view = logit_lens_view(lens, case.tokenizer, case.tokens)
    assert [tok.position for tok in view.tokens] == [t - 2, t - 1]
    assert view.n_text_tokens == t
    assert [c.position for c in view.cells[0]] == [t - 2, t - 1]
    assert [c.is_next for c in view.cells[0]] == [True, False]


def test_lens_rejects_a_grid_for_another_text(case):
    lens = LogitLens(np.ones((3, 2, 1), np.float32), np.zeros((3, 2, 1), np.int64), 0)
    with pytest.raises(ValueError, match="covers positions 0 to 1"):
        logit_lens_view(lens, case.tokenizer, case.tokens)


def softmax(x):
    e = np.exp(np.asarray(x, dtype=np.float64) - np.max(x))
    return e / e.sum()


def test_what_if_compares_the_two_distributions(case):
    rng = np.random.default_rng(3)
    before = rng.standard_normal(TINY["vocab_size"]).astype(np.float32) * 3
    after = before.copy()
    top = int(np.argmax(before))
    after[top] -= 4.0  # the ablation hurts the real top token
    view = what_if_view(case.tokenizer, before, after, Ablation(heads=frozenset({(0, 1)})))
    p, q = softmax(before), softmax(after)
    assert view.before[0].token_id == top == view.top_token.token_id
    assert view.top_change == pytest.approx(q[top] - p[top])
    assert [r.token_id for r in view.after] == list(np.argsort(-q, kind="stable")[:5])
    assert [r.after for r in view.after] == pytest.approx(q[[r.token_id for r in view.after]])
    assert [r.before for r in view.after] == pytest.approx(p[[r.token_id for r in view.after]])
    assert view.kl_nats == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-9)
    assert view.top_changed == (np.argmax(q) != top)


def test_what_if_of_the_same_logits_changes_nothing(case):
    logits = case.trace.last_logits
    view = what_if_view(case.tokenizer, logits, logits.copy(), Ablation())
    assert view.top_change == 0 and view.kl_nats == 0 and not view.top_changed
    assert view.before == view.after
