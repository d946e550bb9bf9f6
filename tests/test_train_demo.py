"""The demo-model trainer on a tiny corpus: it trains, resumes to the same weights, and writes a
folder that transformers and our own export both accept."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from export.train_demo import TrainConfig, train  # noqa: E402

TINY_TRAIN = TrainConfig(
    n_layer=1,
    n_head=2,
    n_embd=16,
    n_ctx=16,
    batch_size=2,
    max_steps=6,
    warmup_steps=2,
    eval_chunks=4,
    checkpoint_every=2,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    sentences = [
        "The cat sat on the mat.",
        "A teacher asked the students to read.",
        "Water flows down the hill to the sea.",
    ]
    text = "\n\n".join(" ".join(sentences[(i + j) % 3] for j in range(5)) for i in range(60))
    (folder / "prose.txt").write_text(text)
    (folder / "sources.json").write_text(
        json.dumps(
            {
                "sources": [
                    {
                        "name": "prose",
                        "file": "prose.txt",
                        "package": "test",
                        "version": "1",
                        "licence": "public domain",
                        "tokens": 0,
                        "weight": 1.0,
                    }
                ]
            }
        )
    )
    return folder


def test_trains_resumes_identically_and_writes_a_loadable_model(corpus, tmp_path):
    straight = train(corpus, tmp_path / "run_a", tmp_path / "model_a", TINY_TRAIN, log_every=1)
    assert straight["finished"] and straight["step"] == 6
    # a run stopped after its first checkpoint and resumed ends with the same weights
    stopped = train(corpus, tmp_path / "run_b", tmp_path / "model_b", TINY_TRAIN, stop_at=3)
    assert stopped == {"finished": False, "step": 3}
    resumed = train(corpus, tmp_path / "run_b", tmp_path / "model_b", TINY_TRAIN, log_every=1)
    assert resumed["finished"]
    a = torch.load(tmp_path / "run_a" / "checkpoint.pt", weights_only=False)["model"]
    b = torch.load(tmp_path / "run_b" / "checkpoint.pt", weights_only=False)["model"]
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)

    # a run cut short can still be written out, and its card says so
    early = train(corpus, tmp_path / "run_c", tmp_path / "model_c", TINY_TRAIN, stop_at=4)
    assert early == {"finished": False, "step": 4}
    train(corpus, tmp_path / "run_c", tmp_path / "model_c", TINY_TRAIN, finish_now=True)
    assert "stopped at step 4 of the planned 6" in (tmp_path / "model_c" / "README.md").read_text()

    report = json.loads((tmp_path / "model_a" / "training.json").read_text())
    losses = [row["loss"] for row in report["loss_log"]]
    assert losses[-1] < losses[0]
    assert report["held_out"]["perplexity"] > 1 and report["unigram_baseline"]["perplexity"] > 1
    card = (tmp_path / "model_a" / "README.md").read_text()
    assert "unigram baseline" in card and "Once upon a time" in card

    transformers = pytest.importorskip("transformers")
    hf = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "model_a").eval()
    from export.train_demo import DemoGPT

    ours = DemoGPT(TINY_TRAIN)
    ours.load_state_dict(a)
    ids = torch.tensor([[464, 3797, 3332, 319, 262, 2603, 13]])
    with torch.no_grad():
        expected = ours(ids).float()
        got = hf(ids).logits.float()
    # the folder holds float16 weights: equal up to that rounding
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-2)


def test_held_out_split_is_interleaved_and_disjoint():
    from export.train_demo import Chunks, split_held_out

    chunks = Chunks(np.arange(100 * 3).reshape(100, 3), np.repeat([0, 1], 50))
    train_split, held = split_held_out(chunks)
    assert len(held.tokens) == 5 and len(train_split.tokens) == 95
    assert set(held.source) == {0, 1}  # every source contributes held-out chunks
    assert not set(map(tuple, held.tokens)) & set(map(tuple, train_split.tokens))
