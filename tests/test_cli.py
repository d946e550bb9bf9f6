"""The command line, run as a user would (subprocess), and the bad inputs it must name."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, TINY, hf_gpt2_tokenizer, tiny_weights
from tests.generation_reference import reference_generate
from tests.gpt2_reference import reference_forward

L, H, D = TINY["n_layer"], TINY["n_head"], TINY["n_embd"]


def cli(*args, stdin: bytes | None = None):
    result = subprocess.run(
        [sys.executable, "-m", "pyexplainer", *args], cwd=ROOT, capture_output=True, input=stdin
    )
    return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")


def test_tokenize_gives_ids_readable_tokens_and_offsets(tiny_int8):
    text = "Hello 世界, naïve 👩‍💻!"
    code, out, _ = cli("tokenize", "--model-dir", str(tiny_int8), "--text", text)
    assert code == 0
    result = json.loads(out)
    assert result["ids"] == hf_gpt2_tokenizer(tiny_int8).encode(text).ids
    assert result["tokens"][0] == "Hello"
    assert "\ufffd" not in "".join(result["tokens"])
    assert result["offsets"][0] == [0, 5] and result["offsets"][-1][1] == len(text)


def test_trace_npz_holds_the_documented_arrays(tiny_fp32, tmp_path):
    text = "The cat sat on the mat because it was warm."
    code, out, err = cli(
        "trace", "--model-dir", str(tiny_fp32), "--text", text, "--out", str(tmp_path / "t.npz")
    )
    assert code == 0, err
    npz = np.load(tmp_path / "t.npz")
    T = len(npz["input_ids"])
    assert json.loads(out)["tokens"] == T
    shapes = {
        "last_logits": (50257,),
        "attention_probs": (L, H, T, T),
        "q": (L, H, T, D // H),
        "k": (L, H, T, D // H),
        "v": (L, H, T, D // H),
        "residual": (L + 1, T, D),
        "mlp_hidden": (L, T, 4 * D),
    }
    for name, shape in shapes.items():
        assert npz[name].shape == shape, name
    expected = reference_forward(list(npz["input_ids"]), tiny_weights(), L, H)
    np.testing.assert_allclose(npz["attention_probs"], expected["attention_probs"], atol=1e-5)
    np.testing.assert_allclose(npz["mlp_hidden"], expected["mlp_act"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(npz["attention_probs"].sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(npz["attention_probs"], k=1) == 0)


def reference_top(logits: np.ndarray, n: int, temperature: float, top_k: int) -> list:
    """Independent of pyexplainer: softmax(logits / T), keep the k largest, renormalise."""
    p = np.exp((logits - logits.max()) / temperature)
    p /= p.sum()
    order = np.argsort(-p, kind="stable")[:top_k]
    kept = p[order] / p[order].sum()
    return [(int(i), float(q)) for i, q in zip(order[:n], kept[:n], strict=True)]


def test_predict_reads_stdin_and_gives_the_exact_sampling_distribution(tiny_fp32):
    text = "Once upon a time"
    code, out, _ = cli(
        "predict",
        "--model-dir",
        str(tiny_fp32),
        "--text",
        "-",
        "--top",
        "5",
        "--temperature",
        "0.7",
        "--top-k",
        "8",
        stdin=text.encode(),
    )
    assert code == 0
    rows = json.loads(out)
    ids = hf_gpt2_tokenizer(tiny_fp32).encode(text).ids
    logits = reference_forward(ids, tiny_weights(), L, H)["logits"][-1]
    expected = reference_top(logits, 5, 0.7, 8)
    assert [r["id"] for r in rows] == [i for i, _ in expected]
    np.testing.assert_allclose(
        [r["probability"] for r in rows], [p for _, p in expected], atol=1e-5
    )


def test_predict_lists_only_tokens_that_can_be_drawn(tiny_int8):
    code, out, _ = cli(
        "predict",
        "--model-dir",
        str(tiny_int8),
        "--text",
        "Once upon a time",
        "--top-k",
        "1",
        "--top",
        "3",
    )
    rows = json.loads(out)
    greedy = json.loads(
        cli(
            "predict",
            "--model-dir",
            str(tiny_int8),
            "--text",
            "Once upon a time",
            "--temperature",
            "0",
        )[1]
    )
    assert len(rows) == 1 and rows[0]["probability"] == 1.0 and rows == greedy


def test_generate_follows_its_seed_and_the_reference_sampler(tiny_fp32):
    args = ("generate", "--model-dir", str(tiny_fp32), "--text", "A", "--tokens", "8")
    prompt = hf_gpt2_tokenizer(tiny_fp32).encode("A").ids
    outputs = {}
    for seed in (3, 4):
        code, out, err = cli(*args, "--seed", str(seed))
        assert code == 0, err
        outputs[seed] = json.loads(out)["ids"]
        expected, _ = reference_generate(tiny_weights(), L, H, prompt, 8, seed=seed)
        assert outputs[seed] == expected, seed
    assert outputs[3] != outputs[4]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the text is empty"),
        ("word" + " word" * 79, "80 tokens is more than this model's context of 64 tokens"),
    ],
    ids=["empty", "too long"],
)
def test_bad_prompts_are_named(tiny_int8, text, message):
    code, _, err = cli("predict", "--model-dir", str(tiny_int8), "--text", text)
    assert code == 1 and message in err


def test_invalid_utf8_on_stdin_is_named(tiny_int8):
    code, _, err = cli("tokenize", "--model-dir", str(tiny_int8), "--text", "-", stdin=b"ab\xff")
    assert code == 1 and "not valid UTF-8" in err


@pytest.mark.parametrize(
    "damage, message",
    [
        (
            lambda d: (d / "model.onnx").write_bytes((d / "model.onnx").read_bytes()[:-10]),
            "model.onnx has",
        ),
        (
            lambda d: (d / "model.onnx").write_bytes(b"x" + (d / "model.onnx").read_bytes()[1:]),
            "model.onnx is corrupt",
        ),
        (lambda d: (d / "vocab.json").unlink(), "vocab.json is missing"),
        (lambda d: (d / "manifest.json").unlink(), "no manifest.json"),
        (lambda d: (d / "manifest.json").write_text("{"), "not valid JSON"),
        (
            lambda d: (d / "manifest.json").write_text(
                json.dumps(
                    {**json.loads((d / "manifest.json").read_text()), "outputs": {"logits": {}}}
                )
            ),
            "do not match this version",
        ),
        (
            lambda d: (d / "manifest.json").write_text(
                json.dumps(
                    {
                        **json.loads((d / "manifest.json").read_text()),
                        "files": {"model.onnx": {"sha256": "00"}},
                    }
                )
            ),
            "manifest.json is incomplete or malformed",
        ),
    ],
)
def test_damaged_model_folder_is_named(tiny_int8, tmp_path, damage, message):
    folder = tmp_path / "model"
    shutil.copytree(tiny_int8, folder)
    damage(folder)
    code, _, err = cli("predict", "--model-dir", str(folder), "--text", "hello")
    assert code == 1 and message in err, err
