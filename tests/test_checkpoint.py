"""Checkpoint formats a teacher may have: safetensors in float32/float16/bfloat16, the older
pytorch_model.bin, tokenizer.json instead of vocab.json + merges.txt, a stored lm_head."""

import json

import numpy as np
import pytest

from export.checkpoint import CheckpointError, load_checkpoint
from tests.conftest import hf_gpt2_tokenizer, tiny_weights, write_hf_checkpoint


def test_float16_and_lm_head_copy_load(tmp_path):
    weights = {k: v.astype(np.float16) for k, v in tiny_weights().items()}
    folder = write_hf_checkpoint(tmp_path / "fp16", weights)
    ckpt = load_checkpoint(str(folder))
    assert ckpt.weights["wte.weight"].dtype == np.float32
    np.testing.assert_array_equal(
        ckpt.weights["h.0.mlp.c_fc.weight"], weights["h.0.mlp.c_fc.weight"].astype(np.float32)
    )
    assert ckpt.source == {"kind": "local folder", "path": str(folder.resolve())}


def test_bfloat16_safetensors_and_pytorch_bin_give_the_same_weights(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    state = {
        "transformer." + k: torch.from_numpy(v).to(torch.bfloat16)
        for k, v in tiny_weights().items()
    }
    bf16 = write_hf_checkpoint(tmp_path / "bf16", tiny_weights())
    save_file(state, str(bf16 / "model.safetensors"))
    pt = write_hf_checkpoint(tmp_path / "pt", tiny_weights())
    (pt / "model.safetensors").unlink()
    torch.save(
        {**state, "lm_head.weight": state["transformer.wte.weight"]}, pt / "pytorch_model.bin"
    )
    from_bf16, from_pt = load_checkpoint(str(bf16)), load_checkpoint(str(pt))
    for name, value in state.items():
        expected = value.float().numpy()
        np.testing.assert_array_equal(
            from_bf16.weights[name.removeprefix("transformer.")], expected
        )
        np.testing.assert_array_equal(from_pt.weights[name.removeprefix("transformer.")], expected)


def test_untied_lm_head_is_refused(tmp_path):
    from safetensors.numpy import save_file

    weights = tiny_weights()
    folder = write_hf_checkpoint(tmp_path / "untied", weights)
    save_file(
        {
            **{"transformer." + k: v for k, v in weights.items()},
            "lm_head.weight": weights["wte.weight"] + 1,
        },
        str(folder / "model.safetensors"),
    )
    with pytest.raises(CheckpointError, match="lm_head.weight differs from wte.weight"):
        load_checkpoint(str(folder))


def test_tokenizer_json_alone_gives_the_same_vocabulary(tmp_path):
    folder = write_hf_checkpoint(tmp_path / "tokjson", tiny_weights())
    oracle = hf_gpt2_tokenizer(folder)
    oracle.save(str(folder / "tokenizer.json"))
    original = load_checkpoint(str(folder))
    (folder / "vocab.json").unlink()
    (folder / "merges.txt").unlink()
    converted = load_checkpoint(str(folder))
    files, converted_files = original.tokenizer.files, converted.tokenizer.files
    assert json.loads(converted_files["vocab.json"]) == json.loads(files["vocab.json"])
    # written as the hub writes it: "Ġ" itself, not its escape (\u0120, six bytes for two)
    assert "Ġ".encode() in converted_files["vocab.json"]
    assert b"\\u0120" not in converted_files["vocab.json"]
    strip = [line for line in files["merges.txt"].splitlines() if not line.startswith(b"#")]
    assert [
        line for line in converted_files["merges.txt"].splitlines() if not line.startswith(b"#")
    ] == strip


@pytest.mark.parametrize(
    "remove, message",
    [
        ("config.json", "no config.json"),
        ("model.safetensors", "no model.safetensors or pytorch_model.bin"),
        ("merges.txt", "no tokenizer files"),
    ],
)
def test_missing_files_are_named(tmp_path, remove, message):
    folder = write_hf_checkpoint(tmp_path / "m", tiny_weights())
    (folder / remove).unlink()
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(str(folder))


def test_not_a_folder_and_not_a_hub_id(tmp_path):
    with pytest.raises(CheckpointError, match="not a folder"):
        load_checkpoint(str(tmp_path / "nowhere"))


def test_a_failed_hub_download_says_what_the_hub_client_said(monkeypatch):
    import huggingface_hub

    def gated(repo_id, **_):
        raise PermissionError(f"401 Client Error: access to model {repo_id} is restricted")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", gated)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint("someone/gated-gpt2")
    said = "PermissionError: 401 Client Error: access to model someone/gated-gpt2 is restricted"
    assert said in str(caught.value) and "pass a local folder" in str(caught.value)


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"dtype": "F32", "shape": [3, 3], "data_offsets": [0, 8]}, "bytes do not fit its shape"),
        ({"dtype": "F32", "shape": [2]}, "has a malformed entry"),
        ({"dtype": "I8", "shape": [8], "data_offsets": [0, 8]}, "unsupported dtype I8"),
    ],
)
def test_malformed_safetensors_entries_are_named(tmp_path, entry, message):
    import struct

    folder = write_hf_checkpoint(tmp_path / "m", tiny_weights())
    header = json.dumps({"transformer.wte.weight": entry}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))
    with pytest.raises(CheckpointError, match=f"transformer.wte.weight.*{message}"):
        load_checkpoint(str(folder))
