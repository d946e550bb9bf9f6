"""CPython benchmark: python -m bench.cpython [--layers 12 --width 768 ...] > bench.json

Exports a GPT-2-small-sized checkpoint with random weights (sizes and speeds do not depend on
the values) as fp32, int8 and int4, then times what the site does: a traced forward pass, the numpy
attention decomposition relative to it, the logit lens of every row and the head-role scores, a
generation step with and without the key/value cache, and the tokenizer. Prints one JSON object;
medians of repeated runs, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.random_model import write_random_checkpoint
from export.checkpoint import expected_shapes
from export.export import export_model
from pyexplainer.config import ModelConfig
from pyexplainer.core.generation import KVCache, cache_after, forward, model_feeds
from pyexplainer.model_dir import open_model_dir
from pyexplainer.views.head_roles import head_roles, repeated_random_tokens


def median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def time_model(folder: Path, repeat: int) -> dict:
    model = open_model_dir(folder)
    c, run = model.manifest.config, model.run
    rng = np.random.default_rng(1)
    result = {}
    for t in (16, 64):
        ids = rng.integers(0, c.vocab_size, t).tolist()
        trace = forward(run, c, ids)
        infer = median_ms(lambda ids=ids: forward(run, c, ids), repeat)

        def decompose(trace=trace):
            for layer in range(c.n_layer):
                trace.attention(layer)

        decomp = median_ms(decompose, repeat)
        result[f"forward_T{t}_ms"] = infer
        result[f"decompose_all_layers_T{t}_ms"] = decomp
        result[f"decompose_over_forward_T{t}"] = round(decomp / infer, 3)
    ids = np.array(rng.integers(0, c.vocab_size, 64))
    lens_feeds = model_feeds(c, ids, KVCache.empty(c), lens_positions=len(ids))
    result["logit_lens_T64_ms"] = median_ms(lambda: run(lens_feeds), repeat)  # forward + lens
    random_twice = repeated_random_tokens(min(50, c.n_positions // 2), c.vocab_size, seed=0)
    repeated = forward(run, c, random_twice)
    trace = forward(run, c, ids)
    result["head_roles_T64_ms"] = median_ms(lambda: head_roles(trace, repeated), repeat)
    ids = ids.tolist()
    prefix = forward(run, c, ids[:-1])
    result["generate_step_at_64_with_cache_ms"] = median_ms(
        lambda: forward(run, c, ids[-1:], cache_after(prefix)), repeat
    )
    result["generate_step_at_64_recompute_ms"] = median_ms(lambda: forward(run, c, ids), repeat)
    result["cache_speedup"] = round(
        result["generate_step_at_64_recompute_ms"] / result["generate_step_at_64_with_cache_ms"], 2
    )
    return result


def tokenizer_throughput(folder: Path) -> dict:
    """Tokens per second on varied text (words drawn from the vocabulary, plus Chinese)."""
    model = open_model_dir(folder)
    words = [w.replace("\u0120", " ") for w in json.loads((folder / "vocab.json").read_text())]
    rnd = random.Random(0)
    text = "".join(rnd.choice(words) for _ in range(40_000)) + "你好，世界。" * 500
    start = time.perf_counter()
    n = len(model.tokenizer.encode(text))
    seconds = time.perf_counter() - start
    return {"tokenizer_tokens": n, "tokenizer_tokens_per_s_cold": round(n / seconds)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--width", type=int, default=768)
    p.add_argument("--context", type=int, default=1024)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    c = ModelConfig(args.layers, args.heads, args.width, args.context, 50257)
    report: dict = {
        "model": c.to_dict(),
        "parameters": sum(int(np.prod(s)) for s in expected_shapes(c).values()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_random_checkpoint(tmp / "ckpt", c)
        for quantize in ("fp32", "int8", "int4"):
            start = time.perf_counter()
            manifest = export_model(  # random weights: the figures recorded, not gated
                str(tmp / "ckpt"), tmp / quantize, quantize=quantize, gate=False
            )
            report[quantize] = {
                "export_s": round(time.perf_counter() - start, 1),
                "model_bytes": manifest["files"]["model.onnx"]["bytes"],
                "fidelity": {k: v for k, v in manifest["fidelity"].items() if k != "text"},
                **time_model(tmp / quantize, args.repeat),
            }
        for quantize in ("int8", "int4"):
            report[f"{quantize}_over_fp32_bytes"] = round(
                report[quantize]["model_bytes"] / report["fp32"]["model_bytes"], 3
            )
        report |= tokenizer_throughput(tmp / "int4")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
