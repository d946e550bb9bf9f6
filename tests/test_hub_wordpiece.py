"""uer/gpt2-chinese-cluecorpussmall, a GPT-2 with BERT's WordPiece vocabulary, from a hub cache made
here with no network: laid out as the hub has it (pytorch_model.bin only, tensor names with the
transformer. prefix, the masks as buffers and a tied lm_head.weight; uer's config.json fields with
"tokenizer_class": "BertTokenizer"; vocab.txt, tokenizer_config.json with do_lower_case false,
special_tokens_map.json), small. Its vocabulary is made here: the special tokens where BERT's
Chinese vocabulary has them, punctuation, digits, English letters and pieces, Chinese characters
and some of them as "##" pieces.
"""

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from pyexplainer.core.generation import forward
from pyexplainer.model_dir import open_model_dir
from tests.conftest import ROOT
from tests.gpt2_reference import reference_forward
from tests.test_hub import (
    GPT2_CONFIG,
    SMALL,
    grid_weights,
    lm_head_checkpoint_tensors,
    offline_env,
    write_hub_repo,
)

UER = "uer/gpt2-chinese-cluecorpussmall"
BPE_FILES = ("vocab.json", "merges.txt")
# uer's config.json, small
UER_CONFIG = {
    key: value
    for key, value in GPT2_CONFIG.items()
    if key not in ("bos_token_id", "eos_token_id", "summary_activation")
} | {
    "gradient_checkpointing": False,
    "n_inner": None,
    "output_past": True,
    "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 320}},
    "tokenizer_class": "BertTokenizer",
}
UER_TOKENIZER_CONFIG = {
    "do_lower_case": False,
    "unk_token": "[UNK]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "mask_token": "[MASK]",
    "tokenize_chinese_chars": True,
    "strip_accents": None,
    "model_max_length": SMALL["n_positions"],
}
UER_SPECIAL_TOKENS_MAP = {
    "unk_token": "[UNK]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "mask_token": "[MASK]",
}
PROMPTS = ["我们的模型，play游戏2024！", "Hello 世界", "naïve ÉCOLE ##们 [SEP]你好", "  \t "]


def uer_vocab() -> list[str]:
    """SMALL["vocab_size"] tokens: [PAD], [unused1..4], [UNK], [CLS], [SEP], [MASK] (ids 0..8),
    then the rest, Chinese characters at the end to fill it up."""
    letters = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    head = [
        "[PAD]",
        *[f"[unused{i}]" for i in range(1, 5)],
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *"!\"#$%&'()*+,-./:;<=>?@[]，。！？、；：“”（）《》",
        *"0123456789",
        "2024",
        "##24",
        *letters,
        *["##" + c for c in letters[:26]],
        "play",
        "hello",
        "##ing",
        "é",
        "É",
        *[chr(c) for c in range(0x4E00, 0x4E00 + 20)],
        *["##" + chr(c) for c in range(0x4E00, 0x4E00 + 20)],
        *"我们的模型游戏世界你好中文提示",
        "##们",
    ]
    head = list(dict.fromkeys(head))
    fill = (chr(c) for c in range(0x4E20, 0x9FFF) if chr(c) not in head)
    return head + [next(fill) for _ in range(SMALL["vocab_size"] - len(head))]


def pytorch_bin(tensors: dict[str, np.ndarray]) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()}, buffer)
    return buffer.getvalue()


def uer_repo_files(weights: dict) -> dict[str, bytes]:
    return {
        "config.json": json.dumps(UER_CONFIG, indent=2).encode(),
        "pytorch_model.bin": pytorch_bin(lm_head_checkpoint_tensors(weights)),
        "vocab.txt": "".join(t + "\n" for t in uer_vocab()).encode(),
        "tokenizer_config.json": json.dumps(UER_TOKENIZER_CONFIG).encode(),
        "special_tokens_map.json": json.dumps(UER_SPECIAL_TOKENS_MAP).encode(),
    }


@pytest.fixture(scope="module")
def uer_hub(tmp_path_factory):
    home, weights = tmp_path_factory.mktemp("hf_home"), grid_weights(4, seed=2)
    commit = write_hub_repo(home, UER, uer_repo_files(weights))
    return {"home": home, "commit": commit, "weights": weights}


@pytest.fixture(scope="module")
def uer_export(uer_hub, tmp_path_factory):
    out = tmp_path_factory.mktemp("uer") / "out"
    done = subprocess.run(
        [sys.executable, "-m", "export", "--model", UER, "--out", str(out), "--quantize", "fp32"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=offline_env(uer_hub["home"]),
    )
    assert done.returncode == 0, done.stderr
    return out


def test_the_manifest_records_the_wordpiece_tokenizer_and_ships_its_vocabulary(uer_hub, uer_export):
    manifest = json.loads((uer_export / "manifest.json").read_text())
    assert manifest["source"] == {
        "kind": "hugging face hub",
        "id": UER,
        "revision": uer_hub["commit"],
    }
    assert manifest["tokenizer"] == {
        "kind": "wordpiece",
        "files": ["vocab.txt"],
        "lowercase": False,
        "strip_accents": None,
        "handle_chinese_chars": True,
        "clean_text": True,
        "unk_token": "[UNK]",
        "special_tokens": ["[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"],
        "prompt_prefix": ["[CLS]"],
        "sampled_special_tokens": [],
        "continuing_subword_prefix": "##",
        "max_input_chars_per_word": 100,
    }
    shipped = (uer_export / "vocab.txt").read_bytes()
    assert shipped.decode().split("\n")[:-1] == uer_vocab()
    assert manifest["files"]["vocab.txt"]["bytes"] == len(shipped)
    assert not (uer_export / "vocab.json").exists()


def test_the_tokenizer_reads_the_hub_files_as_transformers_does(uer_hub, uer_export):
    """BertTokenizerFast of the hub's own files (transformers reads tokenizer_config.json): the
    same tokens, [CLS] in front (what uer's model was trained to read first)."""
    from huggingface_hub import snapshot_download
    from transformers import BertTokenizerFast

    env = offline_env(uer_hub["home"])
    with pytest.MonkeyPatch.context() as patch:
        for key in ("HF_HOME", "HF_HUB_OFFLINE"):
            patch.setenv(key, env[key])
        folder = snapshot_download(UER, local_files_only=True, cache_dir=uer_hub["home"] / "hub")
        hf = BertTokenizerFast.from_pretrained(folder)
    tokenizer = open_model_dir(uer_export).tokenizer
    for text in PROMPTS:
        expected = hf(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = tokenizer.encode_with_offsets(text)
        assert ids == [hf.cls_token_id, *expected["input_ids"]], text
        assert offsets == [(0, 0), *expected["offset_mapping"]], text
    assert tokenizer.token_labels(tokenizer.encode("我们")) == ["[CLS]", "我", "们"]


def test_the_fp32_export_computes_what_the_reference_does(uer_hub, uer_export):
    model = open_model_dir(uer_export)
    for text in PROMPTS[:2]:
        ids = model.tokenizer.encode(text)
        trace = forward(model.run, model.manifest.config, ids)
        expected = reference_forward(ids, uer_hub["weights"], SMALL["n_layer"], SMALL["n_head"])
        logits = expected["logits"][-1]
        assert np.abs(trace.last_logits - logits).max() <= 1e-4 * np.abs(logits).max()
        np.testing.assert_allclose(trace.residual, expected["residual"], rtol=1e-4, atol=2e-5)


def test_generate_joins_pieces_and_never_writes_a_special_token(uer_export):
    """At temperature 3 the grid weights' predictions are nearly flat: the special tokens (9 of
    512) would come up in 40 draws, and "##" pieces do."""
    from tokenizers import decoders

    done = subprocess.run(
        [sys.executable, "-m", "pyexplainer", "generate", "--model-dir", str(uer_export)]
        + ["--text", "我们的模型", "--tokens", "40", "--temperature", "3", "--seed", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    out, vocab = json.loads(done.stdout), uer_vocab()
    assert out["prompt_ids"][0] == vocab.index("[CLS]") and len(out["ids"]) == 40
    words = [vocab[i] for i in out["ids"]]
    assert not set(words) & {*UER_SPECIAL_TOKENS_MAP.values()}, words
    assert any(w.startswith("##") for w in words[1:])
    assert out["text"] == decoders.WordPiece(prefix="##", cleanup=True).decode(words)


def test_the_manifest_chooses_the_tokenizer_and_refuses_one_it_does_not_know(uer_export):
    from pyexplainer.core.tokenizer import Tokenizer
    from pyexplainer.core.wordpiece import WordPieceTokenizer
    from pyexplainer.manifest import (
        ModelFileError,
        load_tokenizer,
        parse_manifest,
        tokenizer_files,
    )

    raw = json.loads((uer_export / "manifest.json").read_text())
    manifest = parse_manifest(raw)
    assert tokenizer_files(manifest) == ("vocab.txt",)
    vocab = {"vocab.txt": (uer_export / "vocab.txt").read_bytes()}
    assert isinstance(load_tokenizer(manifest, vocab), WordPieceTokenizer)
    older = {k: v for k, v in raw.items() if k != "tokenizer"}  # manifests before WordPiece
    older["files"] = {k: {"sha256": "0", "bytes": 0} for k in (*raw["files"], *BPE_FILES)}
    assert tokenizer_files(parse_manifest(older)) == BPE_FILES
    with pytest.raises(ModelFileError, match="does not list vocab.json"):
        model_files = (*raw["onnx"]["graphs"].values(), raw["weights"]["file"])
        files = {name: {"sha256": "0", "bytes": 0} for name in model_files}
        parse_manifest({**older, "files": files})
    with pytest.raises(ModelFileError, match="kind 'sentencepiece'"):
        parse_manifest({**raw, "tokenizer": {"kind": "sentencepiece", "files": []}})
    lacking = {k: v for k, v in raw["tokenizer"].items() if k != "prompt_prefix"}
    with pytest.raises(ModelFileError, match="lacking prompt_prefix"):
        parse_manifest({**raw, "tokenizer": lacking})
    with pytest.raises(ModelFileError, match="needs vocab.txt"):
        load_tokenizer(manifest, {})
    wrong = {**raw, "tokenizer": {**raw["tokenizer"], "unk_token": "[NONE]"}}
    with pytest.raises(ModelFileError, match="no token '\\[NONE\\]'"):
        load_tokenizer(parse_manifest(wrong), vocab)
    assert Tokenizer.never_sampled == () and Tokenizer.prompt_prefix == ()
