"""python -m export --model SRC --out DIR [--quantize int8|fp32] [--name NAME]"""

from __future__ import annotations

import argparse
import json
import sys

from export.checkpoint import CheckpointError
from export.export import ExportError, export_model
from export.graph import QUANTIZATIONS


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
        choices=QUANTIZATIONS,
        default="int8",
        help="weight storage (default int8; fp32 for checking)",
    )
    p.add_argument("--name", help="model name shown on the page (default: folder name or hub id)")
    args = p.parse_args(argv)
    try:
        manifest = export_model(args.model, args.out, quantize=args.quantize, name=args.name)
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
