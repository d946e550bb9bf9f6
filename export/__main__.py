"""python -m export --model SRC --out DIR [--quantize int4|int8|fp32] [--block-size N]
[--name NAME] [--no-fidelity-gate] [--language TAG] [--example PROMPT ...]"""

from __future__ import annotations

import argparse
import json
import sys

from export.checkpoint import CheckpointError
from export.export import ExportError, export_model
from export.quantize import BLOCK_SIZES
from export.stored_weights import DEFAULT_BLOCK, QUANTIZATIONS


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m export",
        description="Export a GPT-2 checkpoint to a traced, quantized ONNX model for pyexplainer.",
    )
    p.add_argument(
        "--model",
        required=True,
        help="Hugging Face hub id (gpt2, distilgpt2, ...) or a local folder in HF layout",
    )
    p.add_argument("--out", required=True, help="output folder (replaced if it holds an export)")
    p.add_argument(
        "--quantize",
        choices=list(QUANTIZATIONS),
        default="int4",
        help="weight storage, kept quantized while the model runs: int4 (attention and MLP "
        "matrices 4-bit codes with an integer multiplier per block, embeddings 8-bit; the "
        "default), int8, or fp32 for checking",
    )
    p.add_argument(
        "--block-size",
        type=int,
        choices=BLOCK_SIZES,
        default=DEFAULT_BLOCK,
        help="int4: values per multiplier in the attention and MLP matrices (default "
        f"{DEFAULT_BLOCK}); it must divide the model width",
    )
    p.add_argument(
        "--no-fidelity-gate",
        action="store_true",
        help="write a quantized export even below its fidelity gate (for random weights, "
        "whose figures are only recorded); the manifest says the gate was not enforced",
    )
    p.add_argument("--name", help="model name shown on the page (default: folder name or hub id)")
    p.add_argument(
        "--language",
        help="the language the model reads, as a BCP 47 tag (zh, en); recorded in the manifest, "
        "and a Chinese model (zh) is measured on Chinese text",
    )
    p.add_argument(
        "--example",
        action="append",
        default=[],
        help="an example prompt the page offers with this model (repeatable)",
    )
    args = p.parse_args(argv)
    try:
        manifest = export_model(
            args.model,
            args.out,
            quantize=args.quantize,
            block=args.block_size,
            name=args.name,
            gate=not args.no_fidelity_gate,
            language=args.language,
            examples=args.example,
        )
    except (CheckpointError, ExportError) as e:
        print(f"export failed: {e}", file=sys.stderr)
        return 1
    summary = {
        "out": args.out,
        "files": manifest["files"],
        "fidelity": {k: v for k, v in manifest["fidelity"].items() if k != "text"},
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
