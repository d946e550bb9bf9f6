"""GPT-2 from the Hugging Face hub, as the deploy gets it, with no network: a hub cache made here,
laid out as the hub lays out openai-community/gpt2 (tensor names without a prefix, the causal
masks as h.N.attn.bias, gpt2's own config.json fields, vocab.json + merges.txt) and, for
distilbert/distilgpt2, as a checkpoint with the transformer. prefix, attn.masked_bias and a tied
lm_head.weight; small sizes. HF_HOME points at it with HF_HUB_OFFLINE=1.

The weights are made so that each fidelity gate's outcome is certain: values on the 4-bit grid of
each quantization block (int4 holds them exactly, so gpt2 ships int4), values on the 8-bit grid
with one large value in each block (int8 holds them exactly, int4 rounds the rest away, so
distilgpt2 falls back to int8), or plain random weights (flat predictions whose top 1 no
quantization keeps: left out).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest
import yaml

from export.checkpoint import download_hub, expected_shapes
from export.quantize import embedding_block
from export.stored_weights import DEFAULT_BLOCK
from pyexplainer.config import ModelConfig
from pyexplainer.core.generation import forward
from pyexplainer.model_dir import open_model_dir
from tests.conftest import ROOT, VOCAB_DIR, tiny_weights
from tests.gpt2_reference import reference_forward
from tests.test_build import fake, network, no_cdn  # noqa: F401  (fixtures)

sys.path.insert(0, str(ROOT / "build"))  # build/ is a folder of scripts, not a package

import hub_models  # noqa: E402
import make_site  # noqa: E402
from make_site import BuildError  # noqa: E402

WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"
SMALL = {"n_layer": 2, "n_head": 4, "n_embd": 32, "n_positions": 64, "vocab_size": 512}
# config.json of openai-community/gpt2 and of distilbert/distilgpt2 as the hub has them, but small
GPT2_CONFIG = {
    "activation_function": "gelu_new",
    "architectures": ["GPT2LMHeadModel"],
    "attn_pdrop": 0.1,
    "bos_token_id": 50256,
    "embd_pdrop": 0.1,
    "eos_token_id": 50256,
    "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05,
    "model_type": "gpt2",
    "n_ctx": SMALL["n_positions"],
    "resid_pdrop": 0.1,
    "summary_activation": None,
    "summary_first_dropout": 0.1,
    "summary_proj_to_labels": True,
    "summary_type": "cls_index",
    "summary_use_proj": True,
    "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
    **SMALL,
}
DISTILGPT2_CONFIG = {
    **GPT2_CONFIG,
    "_num_labels": 1,
    "id2label": {"0": "LABEL_0"},
    "label2id": {"LABEL_0": 0},
}
GPT2, DISTILGPT2 = "openai-community/gpt2", "distilbert/distilgpt2"
UER = "uer/gpt2-chinese-cluecorpussmall"
PROMPT = [40, 257, 300, 262, 267, 11, 284, 290, 318, 256, 13]  # ids below the small vocabulary


# --- the checkpoints ------------------------------------------------------------------------------


def small_tokenizer() -> dict[str, bytes]:
    """GPT-2's 256 byte tokens and its first merges, as vocab.json + merges.txt: GPT-2 numbers
    the token of its merge i 256 + i, so the first merges and ids agree."""
    vocab = json.loads((VOCAB_DIR / "vocab.json").read_text(encoding="utf-8"))
    header, *merges = (VOCAB_DIR / "merges.txt").read_text(encoding="utf-8").splitlines()
    merges = merges[: SMALL["vocab_size"] - 256]
    small = {token: i for token, i in vocab.items() if i < SMALL["vocab_size"]}
    assert all(vocab[m.replace(" ", "")] == 256 + i for i, m in enumerate(merges))
    return {
        "vocab.json": json.dumps(small, ensure_ascii=False).encode(),
        "merges.txt": "\n".join([header, *merges, ""]).encode(),
    }


def int8_grid(rng, shape, size: float) -> np.ndarray:
    """(R, C) values q * size / 127, q drawn from [-127, 127] and the first of each row 127: an
    int8 quantizer with one scale per row (its largest value / 127) holds them exactly."""
    codes = rng.integers(-127, 128, shape).astype(np.float64)
    codes[:, 0] = 127
    return codes * size / 127


def int4_grid(rng, shape, block: int, size: float) -> np.ndarray:
    """(K, N) values c * m * size / 112: for each column and block of `block` rows along K a
    multiplier m drawn from 1..16, codes c from [-7, 7], the column's first block m = 16 and
    first code 7 (its largest value, size): the int4 scheme (export/quantize.py) holds them
    exactly."""
    k, n = shape
    multipliers = rng.integers(1, 17, (k // block, n))
    multipliers[0] = 16
    codes = rng.integers(-7, 8, shape).astype(np.float64)
    codes[0] = 7
    return codes * np.repeat(multipliers, block, axis=0) * size / 112


def grid_weights(bits: int, seed: int = 0) -> dict[str, np.ndarray]:
    """GPT-2 weights that the `bits`-bit scheme holds exactly (the embeddings, int8 per row and
    block in every export, always are); bits=8 spreads each column's codes over all of int8,
    which 4-bit codes cannot hold."""
    rng = np.random.default_rng(seed)
    c = ModelConfig(**SMALL)
    block = embedding_block(c.n_embd)
    weights = {}
    for name, shape in expected_shapes(c).items():
        if len(shape) == 1:  # layer norm gains around 1, biases around 0
            weights[name] = (1.0 if name.endswith("weight") else 0.0) + 0.1 * rng.standard_normal(
                shape
            )
        elif name in ("wte.weight", "wpe.weight"):  # (R, D): rows, in blocks along D
            parts = [int8_grid(rng, (shape[0], block), 0.5) for _ in range(shape[1] // block)]
            weights[name] = np.concatenate(parts, axis=1)
        else:  # (K, N) as x @ w: a scale per column
            # int8: gentler attention, whose softmax its 8-bit activations then barely move
            size = (0.4 if bits == 4 else 0.1) if "c_attn" in name else 0.15
            if bits == 4:
                weights[name] = int4_grid(rng, shape, DEFAULT_BLOCK, size)
            else:
                weights[name] = np.ascontiguousarray(int8_grid(rng, shape[::-1], size).T)
    return {k: v.astype(np.float32) for k, v in weights.items()}


def random_weights() -> dict[str, np.ndarray]:
    """conftest's random weights (flat predictions), cut to the small vocabulary."""
    weights = tiny_weights()
    return {**weights, "wte.weight": weights["wte.weight"][: SMALL["vocab_size"]]}


def causal_mask() -> np.ndarray:
    n = SMALL["n_positions"]
    return np.tril(np.ones((n, n), np.float32))[None, None]  # (1, 1, n_ctx, n_ctx)


def hub_gpt2_tensors(weights: dict) -> dict[str, np.ndarray]:
    """As openai-community/gpt2's model.safetensors: no prefix, h.N.attn.bias masks, no lm_head."""
    masks = {f"h.{i}.attn.bias": causal_mask() for i in range(SMALL["n_layer"])}
    return {**weights, **masks}


def lm_head_checkpoint_tensors(weights: dict) -> dict[str, np.ndarray]:
    """As a GPT2LMHeadModel saves itself: transformer. prefix, attn.bias and attn.masked_bias,
    and lm_head.weight, tied to the token embedding."""
    tensors = {"transformer." + k: v for k, v in weights.items()}
    for i in range(SMALL["n_layer"]):
        tensors[f"transformer.h.{i}.attn.bias"] = causal_mask()
        tensors[f"transformer.h.{i}.attn.masked_bias"] = np.array(-1e4, np.float32)
    return {**tensors, "lm_head.weight": weights["wte.weight"]}


def repo_files(config: dict, tensors: dict) -> dict[str, bytes]:
    from safetensors.numpy import save

    return {
        "config.json": json.dumps(config, indent=2).encode(),
        "model.safetensors": save(tensors, metadata={"format": "pt"}),
        **small_tokenizer(),
    }


# --- the hub cache --------------------------------------------------------------------------------


def blob_name(name: str, data: bytes) -> str:
    """The hub cache names a blob by its etag: an LFS file's sha256, else its git blob sha1."""
    if name.endswith(".safetensors"):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def write_hub_repo(hf_home: Path, repo_id: str, files: dict[str, bytes]) -> str:
    """repo_id's files in HF_HOME's hub cache at a commit of their own, which main points at:
    models--OWNER--NAME/{blobs/ETAG, refs/main, snapshots/COMMIT/NAME -> ../../blobs/ETAG}."""
    repo = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    digest = hashlib.sha1(repo_id.encode())
    for name, data in sorted(files.items()):
        digest.update(name.encode() + b"\0" + data)
    commit = digest.hexdigest()
    snapshot = repo / "snapshots" / commit
    for folder in (repo / "blobs", repo / "refs", snapshot):
        folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        blob = repo / "blobs" / blob_name(name, data)
        blob.write_bytes(data)
        (snapshot / name).symlink_to(os.path.relpath(blob, snapshot))
    (repo / "refs" / "main").write_text(commit)  # no newline, as the hub client writes it
    return commit


def hub_cache(folder: Path, gpt2_weights: dict) -> dict:
    """A hub cache with gpt2 (these weights), distilgpt2 (int8-grid weights) and uer's Chinese
    GPT-2 (int4-grid weights, test_hub_wordpiece's layout): HF_HOME, and each repo's commit and
    weights."""
    from tests.test_hub_wordpiece import uer_repo_files  # which imports this module

    weights = {GPT2: gpt2_weights, DISTILGPT2: grid_weights(8, seed=1), UER: grid_weights(4, 2)}
    files = {
        GPT2: repo_files(GPT2_CONFIG, hub_gpt2_tensors(weights[GPT2])),
        DISTILGPT2: repo_files(DISTILGPT2_CONFIG, lm_head_checkpoint_tensors(weights[DISTILGPT2])),
        UER: uer_repo_files(weights[UER]),
    }
    commits = {repo: write_hub_repo(folder, repo, f) for repo, f in files.items()}
    return {"home": folder, "commits": commits, "weights": weights}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    return hub_cache(tmp_path_factory.mktemp("hf_home"), grid_weights(4))


def offline_env(hf_home: Path, **more) -> dict[str, str]:
    """This environment, reading the hub from the cache in hf_home only."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE")
    }
    return {**env, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", **more}


# --- python -m export --model HUB_ID --------------------------------------------------------------


@pytest.mark.parametrize(
    "repo, quantize", [(GPT2, None), (DISTILGPT2, "int8")], ids=["gpt2", "distilgpt2"]
)
def test_export_of_a_hub_id_reads_the_hub_cache_and_matches_the_reference(
    hub, repo, quantize, tmp_path
):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "export", "--model", repo, "--out", str(out)]
        + (["--quantize", quantize] if quantize else []),
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=offline_env(hub["home"]),
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"] == {
        "kind": "hugging face hub",
        "id": repo,
        "revision": hub["commits"][repo],
    }
    assert manifest["name"] == repo and manifest["config"]["vocab_size"] == SMALL["vocab_size"]
    assert manifest["quantization"]["weights"] == (quantize or "int4")  # the default: int4
    assert manifest["fidelity"]["gate"]["passed"] and manifest["fidelity"]["gate"]["enforced"]
    # the grid weights are held exactly, so the quantized weights in float (the WebGPU graph)
    # compute what float32 does
    model = open_model_dir(out, backend="webgpu")
    trace = forward(model.run, model.manifest.config, PROMPT)
    expected = reference_forward(PROMPT, hub["weights"][repo], SMALL["n_layer"], SMALL["n_head"])
    logits = expected["logits"][-1]
    assert np.abs(trace.last_logits - logits).max() <= 1e-4 * np.abs(logits).max()
    for name in ("q", "head_outputs", "mlp_out", "residual"):
        np.testing.assert_allclose(getattr(trace, name), expected[name], rtol=1e-4, atol=2e-5)


# --- what is downloaded ---------------------------------------------------------------------------

# what openai-community/gpt2 holds, and an older repository without safetensors
GPT2_REPO_FILES = [
    ".gitattributes", "64-8bits.tflite", "README.md", "config.json", "flax_model.msgpack",
    "generation_config.json", "merges.txt", "model.safetensors", "onnx/decoder_model.onnx",
    "pytorch_model.bin", "rust_model.ot", "tf_model.h5", "tokenizer.json",
    "tokenizer_config.json", "vocab.json",
]  # fmt: skip
OLD_REPO_FILES = [".gitattributes", "config.json", "pytorch_model.bin", "tokenizer.json"]
# what uer/gpt2-chinese-cluecorpussmall holds: a BERT vocabulary, no tokenizer.json
UER_REPO_FILES = [
    ".gitattributes", "README.md", "config.json", "flax_model.msgpack", "pytorch_model.bin",
    "special_tokens_map.json", "tf_model.h5", "tokenizer_config.json", "vocab.txt",
]  # fmt: skip


def fake_hub(monkeypatch, tmp_path, repo_files: list[str]) -> list:
    """huggingface_hub.snapshot_download over a repository of these files: each call fetches the
    files its allow_patterns match into one snapshot folder; returns the list of calls."""
    import huggingface_hub

    calls, snapshot = [], tmp_path / "snapshots" / ("c0ffee" * 7)[:40]

    def snapshot_download(repo_id, *, revision=None, allow_patterns=None):
        fetched = [f for f in repo_files if any(fnmatch(f, p) for p in allow_patterns)]
        calls.append({"revision": revision, "fetched": fetched})
        for name in fetched:
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            (snapshot / name).write_text(name)
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return calls


@pytest.mark.parametrize(
    "files, fetched",
    [
        (GPT2_REPO_FILES, {"config.json", "model.safetensors", "vocab.json", "merges.txt"}),
        (OLD_REPO_FILES, {"config.json", "pytorch_model.bin", "tokenizer.json"}),
        (
            UER_REPO_FILES,
            {
                "config.json",
                "pytorch_model.bin",
                "vocab.txt",
                "tokenizer_config.json",
                "special_tokens_map.json",
            },
        ),
    ],
    ids=["safetensors", "pytorch_model.bin", "bert_vocab"],
)
def test_the_download_takes_only_the_files_the_export_reads(monkeypatch, tmp_path, files, fetched):
    calls = fake_hub(monkeypatch, tmp_path, files)
    folder = download_hub("someone/gpt2")
    assert {f for call in calls for f in call["fetched"]} == fetched
    assert sorted(p.name for p in folder.iterdir()) == sorted(fetched)
    # the fall-backs are fetched from the first call's commit, whatever main points at since
    assert [call["revision"] for call in calls[1:]] == [folder.name] * (len(calls) - 1)


# --- the deploy workflow --------------------------------------------------------------------------


def workflow_steps() -> tuple[dict, list[dict]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return workflow["env"], workflow["jobs"]["build"]["steps"]


def shared_cache(xdg: Path) -> None:
    """XDG_CACHE_HOME=xdg gives the build this run's own hub/ export cache, and the user's cache of
    third-party files and of the demo model's export (filled by the first build that needs them)."""
    user = make_site.default_cache()
    for part in ("third_party", "models"):
        (user / part).mkdir(parents=True, exist_ok=True)
        (xdg / "pyexplainer").mkdir(parents=True, exist_ok=True)
        (xdg / "pyexplainer" / part).symlink_to(user / part)


def run_workflow(hf_home: Path, work: Path) -> dict:
    """The build job's commands that run build/ scripts, read from the workflow and run as its
    runner runs them (bash -e, the workflow's env, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files),
    in a checkout-like folder, against the hub cache: the files and logs they leave."""
    env, steps = workflow_steps()
    work.mkdir()
    (work / "build").symlink_to(ROOT / "build")  # commands name build/...; their site is work's
    shared_cache(work / "xdg")
    outputs, summary = work / "github_output", work / "step_summary"
    environment = offline_env(
        hf_home,
        **env,
        XDG_CACHE_HOME=str(work / "xdg"),
        GITHUB_OUTPUT=str(outputs),
        GITHUB_STEP_SUMMARY=str(summary),
    )
    logs = []
    for step in steps:
        if "run" in step and "build/" in step["run"]:
            done = subprocess.run(
                ["bash", "-e", "-c", step["run"]],
                cwd=work,
                env=environment,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, f"{step['run']}\n{done.stderr}"
            logs.append(done.stderr)
    index = json.loads((work / "site" / "models" / "index.json").read_text())
    return {
        "steps": steps,
        "index": index,
        "log": "\n".join(logs),
        "summary": summary.read_text(),
        "outputs": outputs.read_text(),
        "hub": work / "xdg" / "pyexplainer" / "hub",
        "site": work / "site",
    }


@network
def test_the_workflow_exports_the_hub_models_and_builds_the_site_with_gpt2_as_default(
    hub, tmp_path
):
    run = run_workflow(hub["home"], tmp_path / "work")
    index = run["index"]
    chinese = "gpt2-chinese-cluecorpussmall"
    assert [m["name"] for m in index["models"]] == ["demo", "gpt2", "distilgpt2", chinese]
    assert index["default"] == "gpt2"
    quantization = {m["name"]: m["quantization"] for m in index["models"]}
    assert quantization == {"demo": "int4", "gpt2": "int4", "distilgpt2": "int8", chinese: "int4"}
    (uer,) = [m for m in index["models"] if m["name"] == chinese]
    assert uer["language"] == "zh" and uer["example_prompts"][0] == "这是很久之前的事情了"
    uer_manifest = json.loads((run["site"] / "models" / chinese / "manifest.json").read_text())
    assert uer_manifest["tokenizer"]["kind"] == "wordpiece"
    assert uer_manifest["fidelity"]["text"].startswith("同学们")  # measured on Chinese text
    for name, repo in (("gpt2", GPT2), ("distilgpt2", DISTILGPT2), (chinese, UER)):
        manifest = json.loads(
            (tmp_path / "work" / "site" / "models" / name / "manifest.json").read_text()
        )
        assert manifest["source"]["revision"] == hub["commits"][repo]
    # distilgpt2 fell back to int8, and the log and the summary say why
    assert (
        "distilbert/distilgpt2: int4 refused: the int4 graph is not faithful enough" in run["log"]
    )
    (row,) = [line for line in run["summary"].splitlines() if line.startswith("| distilgpt2 |")]
    assert "| int8 |" in row
    assert re.search(r"int4 refused \(wasm: top-1 agreement with fp32 [\d.]+% < 92%", row)
    assert "of GitHub Pages' 1000.0 MB" in run["summary"] and "default: gpt2." in run["summary"]
    # the exports are cached where the workflow caches them, under the key the first step wrote
    (key,) = [
        s
        for s in run["steps"]
        if s.get("uses", "").startswith("actions/cache") and "hub" in s["with"]["path"]
    ]
    assert key["with"]["path"] == "~/.cache/pyexplainer/hub"
    assert run["outputs"].startswith("key=pyexplainer-hub-")
    assert key["with"]["key"] == "${{ steps.hub.outputs.key }}"
    assert sorted(p.name.rsplit("-", 2)[0] for p in run["hub"].iterdir()) == [
        "distilgpt2",
        "gpt2",
        chinese,
    ]


def test_an_export_is_made_once_per_hub_revision_and_exporter(tiny_int8, tmp_path, monkeypatch):
    revision, exports = {"now": "a" * 40}, []

    def export_first_passing(hub_id, out):  # as a passing int8 export would
        exports.append(hub_id)
        shutil.copytree(tiny_int8, out)
        return {"shipped": "int8", "refused": {"int4": "below the gate"}}

    monkeypatch.setattr(hub_models, "hub_revision", lambda hub_id: revision["now"])
    monkeypatch.setattr(hub_models, "export_first_passing", export_first_passing)
    first = hub_models.hub_model(GPT2, tmp_path, "e" * 64)
    assert first["folder"] == tmp_path / "hub" / f"gpt2-{'a' * 12}-{'e' * 8}" / "model"
    assert first["shipped"] == "int8" and first["refused"] == {"int4": "below the gate"}
    assert hub_models.hub_model(GPT2, tmp_path, "e" * 64) == first and len(exports) == 1
    hub_models.hub_model(GPT2, tmp_path, "f" * 64)  # the exporter changed
    revision["now"] = "b" * 40  # the hub's main moved
    hub_models.hub_model(GPT2, tmp_path, "f" * 64)
    assert len(exports) == 3
    revision["now"] = "a" * 40
    (first["folder"] / "manifest.json").unlink()  # a broken cached export is made again
    assert hub_models.hub_model(GPT2, tmp_path, "e" * 64) == first and len(exports) == 4


def test_a_left_out_model_is_remembered_too(tmp_path, monkeypatch):
    exports = []

    def export_first_passing(hub_id, out):
        exports.append(hub_id)
        return {"shipped": None, "refused": {"int4": "no", "int8": "no"}}

    monkeypatch.setattr(hub_models, "hub_revision", lambda hub_id: "a" * 40)
    monkeypatch.setattr(hub_models, "export_first_passing", export_first_passing)
    for _ in range(2):
        assert hub_models.hub_model(GPT2, tmp_path, "e" * 64)["shipped"] is None
    assert len(exports) == 1


def test_a_site_larger_than_github_pages_publishes_fails_the_build_saying_so(
    fake,  # noqa: F811  (the fixture imported above)
    tiny_int4,
    tmp_path,
    monkeypatch,
    capsys,
):
    cache, lock = fake
    monkeypatch.setattr(make_site, "read_lock", lambda: lock)
    monkeypatch.setattr(hub_models, "demo_model", lambda cache: tiny_int4)
    monkeypatch.setattr(hub_models, "PAGES_LIMIT", 100_000)
    with pytest.raises(
        BuildError, match=r"the site is [\d.]+ MB, more than GitHub Pages publishes \(0.1 MB\)"
    ):
        hub_models.build_site(tmp_path / "site", [], cache.parent)
    assert "of GitHub Pages' 0.1 MB" in capsys.readouterr().err


@network
def test_a_model_that_passes_no_gate_is_left_out_and_the_rest_deployed(tmp_path):
    hub_home = hub_cache(tmp_path / "hf_home", random_weights())
    run = run_workflow(hub_home["home"], tmp_path / "work")
    names = ["demo", "distilgpt2", "gpt2-chinese-cluecorpussmall"]
    assert [m["name"] for m in run["index"]["models"]] == names
    assert run["index"]["default"] == "distilgpt2"
    (row,) = [line for line in run["summary"].splitlines() if line.startswith("| gpt2 |")]
    assert "**left out**" in row
    assert re.search(r"int4 refused \(wasm: top-1 agreement with fp32 [\d.]+% < 92%", row)
    assert re.search(r"int8 refused \(wasm: top-1 agreement with fp32 [\d.]+% < 98%", row)
    assert (
        "::warning title=gpt2 left out::openai-community/gpt2 passed no fidelity gate" in run["log"]
    )
