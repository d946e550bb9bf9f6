"""Read a GPT-2 checkpoint in Hugging Face layout into float32 numpy arrays, checking it thoroughly.

A source is a local folder (config.json + model.safetensors or pytorch_model.bin + the tokenizer's
files, see export/tokenizer_source.py) or a Hugging Face hub id, downloaded with huggingface_hub
when the network allows. Every problem raises CheckpointError with a message that names it.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

import numpy as np

from export.tokenizer_source import TokenizerFiles, TokenizerSourceError, read_tokenizer
from pyexplainer.config import ModelConfig

SUPPORTED_ACTIVATIONS = ("gelu_new", "gelu_pytorch_tanh")  # GPT-2's tanh approximation of GELU
# config.json switches that make a model compute something other than GPT-2, with GPT-2's value
UNSUPPORTED_VARIANTS = {"scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False}
# What the export reads of a hub repository: config.json and, of each group, the first files the
# repository has (read_weights and read_tokenizer prefer them in this order; a BERT vocab.txt
# comes with the settings BertTokenizer reads beside it)
HUB_CONFIG = "config.json"
HUB_ALTERNATIVES = [
    (["model.safetensors"], ["pytorch_model.bin"]),
    (
        ["vocab.json", "merges.txt"],
        ["tokenizer.json"],
        ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"],
    ),
]


class CheckpointError(Exception):
    """A checkpoint that cannot be exported; the message says why."""


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    config: ModelConfig
    weights: dict[str, np.ndarray]  # GPT-2 names without the "transformer." prefix, float32
    tokenizer: TokenizerFiles  # the files the site ships and the manifest's "tokenizer"
    source: dict  # where it came from, for the manifest


def resolve_source(model: str) -> tuple[Path, dict]:
    """A local folder as it is, or a hub id downloaded to the hub cache."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path, {"kind": "local folder", "path": str(path.resolve())}
    if path.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise CheckpointError(
            f"{model}: not a folder; pass a folder in Hugging Face layout "
            "(config.json + model.safetensors + vocab.json/merges.txt)"
        )
    try:
        folder = download_hub(model)
    except ImportError as e:
        raise CheckpointError(
            f"{model!r} is not a local folder, and huggingface_hub is not "
            "installed to download it; pass a local folder"
        ) from e
    except Exception as e:  # offline, unknown id, gated repo: the hub client raises many kinds
        raise CheckpointError(
            f"could not download {model!r} from the Hugging Face hub; the hub client said "
            f"{type(e).__name__}: {e}\nwithout network access, pass a local folder in Hugging "
            "Face layout instead, e.g. --model path/to/gpt2"
        ) from e
    return folder, {"kind": "hugging face hub", "id": model, "revision": folder.name}


def download_hub(model: str) -> Path:
    """The snapshot folder (named by its commit) holding the files the export reads of hub
    repository `model`; offline (HF_HUB_OFFLINE=1), from the hub cache."""
    from huggingface_hub import snapshot_download

    preferred = [HUB_CONFIG] + [name for first, *_ in HUB_ALTERNATIVES for name in first]
    folder = Path(snapshot_download(model, allow_patterns=preferred))
    for group in HUB_ALTERNATIVES:
        for tried, following in zip(group, group[1:], strict=False):
            if all((folder / name).is_file() for name in tried):
                break  # the repository has them
            snapshot_download(model, revision=folder.name, allow_patterns=following)
    return folder


def read_config(folder: Path) -> ModelConfig:
    path = folder / "config.json"
    if not path.is_file():
        raise CheckpointError(f"{folder}: no config.json; not a Hugging Face model folder")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from e
    if raw.get("model_type") != "gpt2":
        raise CheckpointError(
            f"{path}: model_type is {raw.get('model_type')!r}; only GPT-2 "
            "architecture checkpoints (model_type 'gpt2') can be exported"
        )
    for key, gpt2_value in UNSUPPORTED_VARIANTS.items():
        if raw.get(key, gpt2_value) != gpt2_value:
            raise CheckpointError(
                f"{path}: {key} = {raw[key]!r} changes GPT-2's attention "
                "arithmetic; such checkpoints cannot be exported"
            )
    activation = raw.get("activation_function", "gelu_new")
    if activation not in SUPPORTED_ACTIVATIONS:
        raise CheckpointError(
            f"{path}: activation_function {activation!r} is not GPT-2's "
            f"({' or '.join(SUPPORTED_ACTIVATIONS)})"
        )
    if raw.get("n_inner") not in (None, 4 * raw.get("n_embd", 0)):
        raise CheckpointError(f"{path}: n_inner {raw['n_inner']} is not 4 * n_embd as in GPT-2")
    try:
        config = ModelConfig(
            n_layer=int(raw["n_layer"]),
            n_head=int(raw["n_head"]),
            n_embd=int(raw["n_embd"]),
            n_positions=int(raw["n_positions"]),
            vocab_size=int(raw["vocab_size"]),
            layer_norm_epsilon=float(raw.get("layer_norm_epsilon", 1e-5)),
        )
    except KeyError as e:
        raise CheckpointError(f"{path}: missing {e.args[0]}") from e
    if config.n_embd % config.n_head:
        raise CheckpointError(
            f"{path}: n_embd {config.n_embd} is not divisible by n_head {config.n_head}"
        )
    return config


def expected_shapes(c: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every GPT-2 tensor (HF Conv1D layout: weights are (in, out)) and its shape."""
    d = c.n_embd
    shapes = {
        "wte.weight": (c.vocab_size, d),
        "wpe.weight": (c.n_positions, d),
        "ln_f.weight": (d,),
        "ln_f.bias": (d,),
    }
    for i in range(c.n_layer):
        shapes |= {
            f"h.{i}.ln_1.weight": (d,),
            f"h.{i}.ln_1.bias": (d,),
            f"h.{i}.attn.c_attn.weight": (d, 3 * d),
            f"h.{i}.attn.c_attn.bias": (3 * d,),
            f"h.{i}.attn.c_proj.weight": (d, d),
            f"h.{i}.attn.c_proj.bias": (d,),
            f"h.{i}.ln_2.weight": (d,),
            f"h.{i}.ln_2.bias": (d,),
            f"h.{i}.mlp.c_fc.weight": (d, 4 * d),
            f"h.{i}.mlp.c_fc.bias": (4 * d,),
            f"h.{i}.mlp.c_proj.weight": (4 * d, d),
            f"h.{i}.mlp.c_proj.bias": (d,),
        }
    return shapes


_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a .safetensors file as float32 (bf16 included, which numpy lacks)."""
    data = path.read_bytes()
    try:
        (header_len,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + header_len])
    except (struct.error, ValueError) as e:
        raise CheckpointError(f"{path}: not a safetensors file (unreadable header)") from e
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: not a safetensors file (header is not a table)")
    body = memoryview(data)[8 + header_len :]
    out = {}
    for name, info in header.items():
        if name != "__metadata__":
            out[name] = _safetensors_tensor(path, name, info, body)
    return out


def _safetensors_tensor(path: Path, name: str, info, body: memoryview) -> np.ndarray:
    try:
        dtype = _SAFETENSORS_DTYPES.get(info["dtype"])
        start, end = info["data_offsets"]
        shape = [int(n) for n in info["shape"]]
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: tensor {name} has a malformed entry ({e})") from e
    if dtype is None:
        raise CheckpointError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
    if end > len(body):
        raise CheckpointError(f"{path}: file is truncated (tensor {name} runs past its end)")
    try:
        arr = np.frombuffer(body[start:end], dtype=dtype).reshape(shape)
    except ValueError as e:
        raise CheckpointError(f"{path}: tensor {name}'s bytes do not fit its shape {shape}") from e
    if info["dtype"] == "BF16":
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr.astype(np.float32)


def read_pytorch_bin(path: Path) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError as e:
        raise CheckpointError(
            f"{path}: reading pytorch_model.bin needs torch (pip install "
            "torch==2.13.0); or convert the checkpoint to model.safetensors"
        ) from e
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: could not be read by torch ({e})") from e
    return {k: v.float().numpy() for k, v in state.items()}


def read_weights(folder: Path, config: ModelConfig) -> dict[str, np.ndarray]:
    if (folder / "model.safetensors").is_file():
        raw = read_safetensors(folder / "model.safetensors")
    elif (folder / "pytorch_model.bin").is_file():
        raw = read_pytorch_bin(folder / "pytorch_model.bin")
    else:
        raise CheckpointError(f"{folder}: no model.safetensors or pytorch_model.bin")
    weights = {k.removeprefix("transformer."): v for k, v in raw.items()}
    lm_head = weights.pop("lm_head.weight", None)
    # old checkpoints store the causal mask as buffers; they are not weights
    weights = {
        k: v for k, v in weights.items() if not k.endswith((".attn.bias", ".attn.masked_bias"))
    }
    shapes = expected_shapes(config)
    missing = sorted(set(shapes) - set(weights), key=_natural)
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise CheckpointError(f"{folder}: checkpoint is missing tensors {shown}")
    for name, shape in shapes.items():
        if weights[name].shape != shape:
            raise CheckpointError(
                f"{folder}: tensor {name} has shape {weights[name].shape} but "
                f"config.json implies {shape}"
            )
    unexpected = sorted(set(weights) - set(shapes), key=_natural)
    if unexpected:
        raise CheckpointError(f"{folder}: tensors not in GPT-2: {', '.join(unexpected[:5])}")
    if lm_head is not None and not np.array_equal(lm_head, weights["wte.weight"]):
        raise CheckpointError(
            f"{folder}: lm_head.weight differs from wte.weight; GPT-2 ties "
            "its output layer to the token embedding"
        )
    for name, w in weights.items():
        if not np.isfinite(w).all():
            raise CheckpointError(f"{folder}: tensor {name} contains NaN or infinity")
    return weights


def load_checkpoint(model: str) -> Checkpoint:
    folder, source = resolve_source(model)
    config = read_config(folder)
    weights = read_weights(folder, config)
    try:
        tokenizer = read_tokenizer(folder, config)
    except TokenizerSourceError as e:
        raise CheckpointError(str(e)) from e
    return Checkpoint(config, weights, tokenizer, source)


def _natural(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in name.split("."))
