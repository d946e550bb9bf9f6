"""Command line: python -m pyexplainer {tokenize,trace,predict,generate} --model-dir DIR --text TEXT

`--text -` reads the text from standard input (UTF-8). Output is JSON (trace: an .npz file).
`python -m pyexplainer serve DIR [--port N] [--host H]` serves a built site on this machine.
`python -m pyexplainer bench --site DIR [--out-json FILE]` measures it in headless Chromium (the
benchmark, bench/ beside this package in the source checkout; `bench --help` for its options).
`python -m pyexplainer smoke DIR [--record]` checks every model of a built site in headless
Chromium against this CPython runtime (the deploy's smoke test, also in bench/).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from pyexplainer.core.generation import ContextLengthError, forward, generate
from pyexplainer.core.trace import TRACE_OUTPUTS
from pyexplainer.manifest import ModelFileError
from pyexplainer.model_dir import LocalModel, open_model_dir
from pyexplainer.views.predictions import SamplingSettings, predictions


def read_text(arg: str) -> str:
    return sys.stdin.buffer.read().decode("utf-8") if arg == "-" else arg


def cmd_tokenize(model: LocalModel, args) -> None:
    ids, offsets = model.tokenizer.encode_with_offsets(args.text)
    print(
        json.dumps(
            {
                "ids": ids,
                "tokens": model.tokenizer.token_labels(ids),
                "offsets": [list(o) for o in offsets],
            },
            ensure_ascii=False,
        )
    )


def cmd_trace(model: LocalModel, args) -> None:
    trace = forward(model.run, model.manifest.config, model.tokenizer.encode(args.text))
    steps = [trace.attention(layer) for layer in range(len(trace.q))]
    np.savez_compressed(
        args.out,
        input_ids=trace.input_ids,
        attention_probs=np.stack([s.probs for s in steps]),  # (L, H, T, T), numpy decomposition
        mlp_hidden=trace.mlp_act,  # (L, T, 4D) after GELU
        **{name: getattr(trace, name) for name in TRACE_OUTPUTS},
    )
    print(json.dumps({"out": args.out, "tokens": len(trace.input_ids)}))


def cmd_predict(model: LocalModel, args) -> None:
    trace = forward(model.run, model.manifest.config, model.tokenizer.encode(args.text))
    settings = SamplingSettings(
        args.temperature, args.top_k, args.top_p, model.tokenizer.never_sampled
    )
    rows = predictions(model.tokenizer, trace.last_logits, settings, args.top)
    print(
        json.dumps(
            [{"token": r.label, "id": r.token_id, "probability": r.probability} for r in rows],
            ensure_ascii=False,
        )
    )


def cmd_generate(model: LocalModel, args) -> None:
    prompt = model.tokenizer.encode(args.text)
    new = generate(
        model.run,
        model.manifest.config,
        prompt,
        args.tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
        banned=model.tokenizer.never_sampled,
    )
    print(
        json.dumps(
            {"prompt_ids": prompt, "ids": new, "text": model.tokenizer.decode(new)},
            ensure_ascii=False,
        )
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pyexplainer", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, func, help_: str) -> argparse.ArgumentParser:
        s = sub.add_parser(name, help=help_)
        s.add_argument("--model-dir", required=True, help="an exported model folder")
        s.add_argument("--text", required=True, help="the input text, or - to read stdin")
        s.set_defaults(func=func)
        return s

    def sampling(s: argparse.ArgumentParser) -> None:
        s.add_argument("--temperature", type=float, default=1.0, help="0 = greedy")
        s.add_argument("--top-k", type=int, default=0, help="0 = off")
        s.add_argument("--top-p", type=float, default=1.0, help="1 = off")

    command("tokenize", cmd_tokenize, "token ids, readable tokens and character offsets")
    command("trace", cmd_trace, "every intermediate tensor of one forward pass").add_argument(
        "--out", required=True, help="the .npz file to write"
    )
    predict = command("predict", cmd_predict, "the most probable next tokens")
    sampling(predict)
    predict.add_argument("--top", type=int, default=10, help="how many tokens to list")
    gen = command("generate", cmd_generate, "continue the text token by token (key/value cache)")
    sampling(gen)
    gen.add_argument("--tokens", type=int, required=True, help="how many tokens to generate")
    gen.add_argument("--seed", type=int, default=0)
    serve = sub.add_parser("serve", help="serve a built site here, cross-origin isolated")
    serve.add_argument("dir", help="the folder python build/make_site.py --out wrote")
    serve.add_argument("--port", type=int, default=8000, help="0 = any free port")
    serve.add_argument("--host", default="127.0.0.1")
    # their options are their own (bench.browser.parser, bench.smoke.parser): passed on unread
    sub.add_parser("bench", help="the site's performance figures, as JSON", add_help=False)
    sub.add_parser(
        "smoke", help="every model of a built site in Chromium against CPython", add_help=False
    )
    return p


# commands that live in the source checkout's bench/ -> (their module, what they are)
CHECKOUT_COMMANDS = {
    "bench": ("bench.browser", "the benchmark"),
    "smoke": ("bench.smoke", "the smoke test"),
}


def checkout_command(command: str, argv: list[str]) -> int:
    """python -m pyexplainer bench / smoke: these live in the source checkout, not the package
    (the site ships the package to the browser), and are imported only when asked for."""
    import importlib

    name, what = CHECKOUT_COMMANDS[command]
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != "bench":
            raise
        print(
            f"error: {what} is part of the source checkout (bench/ beside pyexplainer/); "
            "run this from the repository's root",
            file=sys.stderr,
        )
        return 1
    return module.main(argv)


def main(argv: list[str] | None = None) -> int:
    args, rest = parser().parse_known_args(argv)
    if args.command in CHECKOUT_COMMANDS:
        return checkout_command(args.command, rest)
    if rest:
        parser().error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "serve":
        from pyexplainer.serve import serve  # the local server is no part of the core

        return serve(args.dir, host=args.host, port=args.port)
    try:
        args.text = read_text(args.text)
        args.func(open_model_dir(args.model_dir), args)
    except UnicodeDecodeError as e:
        print(
            f"error: the input is not valid UTF-8 ({e.reason} at byte {e.start})", file=sys.stderr
        )
        return 1
    except (ModelFileError, ContextLengthError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
