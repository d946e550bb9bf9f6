"""A checkpoint's tokenizer as the export ships it: its files and the manifest's "tokenizer".

Two kinds, as Hugging Face checkpoints of the GPT-2 architecture have them:
- GPT-2's byte-level BPE: vocab.json + merges.txt, or a tokenizer.json of model type BPE;
  shipped as vocab.json + merges.txt.
- BERT's WordPiece (uer/gpt2-chinese-cluecorpussmall, "tokenizer_class": "BertTokenizer"):
  vocab.txt with tokenizer_config.json (and special_tokens_map.json) read as BertTokenizer reads
  them, or a tokenizer.json of model type WordPiece (a BertTokenizerFast's); shipped as vocab.txt,
  its settings in the manifest.

Which special tokens a WordPiece model reads before a prompt: [CLS]. BERT's template starts every
text with it, and UER-py, which trained uer's Chinese GPT-2 models, puts [CLS] at the start of
every training text and of every prompt (its scripts/generate_lm.py; its authors confirm it in
dbiir/UER-py issue 222). [SEP] ends a text (issue 205): it is not added, and like every special
token it is never sampled (sampled_special_tokens is empty).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from pyexplainer.config import ModelConfig
from pyexplainer.core.wordpiece import vocab_tokens
from pyexplainer.manifest import BYTE_LEVEL_BPE

# BertTokenizer's defaults, where tokenizer_config.json and special_tokens_map.json say nothing
BERT_SPECIAL_TOKENS = {
    "unk_token": "[UNK]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "mask_token": "[MASK]",
}
WORDPIECE_VOCAB = "vocab.txt"


class TokenizerSourceError(Exception):
    """Tokenizer files the export cannot ship; the message says why."""


@dataclasses.dataclass(frozen=True)
class TokenizerFiles:
    section: dict  # the manifest's "tokenizer" (pyexplainer.manifest reads it)
    files: dict[str, bytes]  # the files to ship, by name (section["files"])


def read_tokenizer(folder: Path, config: ModelConfig) -> TokenizerFiles:
    """The tokenizer of a checkpoint folder, its vocabulary checked against config.json."""
    if (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
        vocab_json = (folder / "vocab.json").read_text(encoding="utf-8")
        merges_txt = (folder / "merges.txt").read_text(encoding="utf-8")
        return byte_level(folder, config, vocab_json, merges_txt)
    if (folder / "tokenizer.json").is_file():
        try:
            spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        except ValueError as e:
            raise TokenizerSourceError(f"{folder}/tokenizer.json: not valid JSON ({e})") from e
        model = spec.get("model") or {}
        if model.get("type") == "BPE":
            merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
            merges_txt = "#version: 0.2\n" + "\n".join(merges) + "\n"
            vocab_json = json.dumps(model["vocab"], ensure_ascii=False)  # as the hub writes it
            return byte_level(folder, config, vocab_json, merges_txt)
        if model.get("type") == "WordPiece":
            return wordpiece_from_tokenizer_json(folder, config, spec)
        raise TokenizerSourceError(
            f"{folder}/tokenizer.json: a {model.get('type')!r} tokenizer; the export reads "
            "BPE (GPT-2's) and WordPiece (BERT's)"
        )
    if (folder / WORDPIECE_VOCAB).is_file():
        return wordpiece_from_vocab_txt(folder, config)
    raise TokenizerSourceError(
        f"{folder}: no tokenizer files (vocab.json + merges.txt, tokenizer.json, or a BERT "
        "vocab.txt with tokenizer_config.json)"
    )


def byte_level(folder: Path, config: ModelConfig, vocab_json: str, merges: str) -> TokenizerFiles:
    try:
        vocab = json.loads(vocab_json)
    except ValueError as e:
        raise TokenizerSourceError(f"{folder}: vocab.json is not valid JSON ({e})") from e
    if len(vocab) != config.vocab_size or sorted(vocab.values()) != list(range(config.vocab_size)):
        raise TokenizerSourceError(
            f"{folder}: the tokenizer has {len(vocab)} tokens but config.json "
            f"says vocab_size {config.vocab_size}"
        )
    files = {"vocab.json": vocab_json.encode("utf-8"), "merges.txt": merges.encode("utf-8")}
    return TokenizerFiles(dict(BYTE_LEVEL_BPE), files)


def read_json(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise TokenizerSourceError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(data, dict):
        raise TokenizerSourceError(f"{path}: not a JSON object")
    return data


def token_text(value) -> str:
    """A special token as tokenizer_config.json writes it: a string or an AddedToken's dict."""
    return value["content"] if isinstance(value, dict) else str(value)


def wordpiece_from_vocab_txt(folder: Path, config: ModelConfig) -> TokenizerFiles:
    """vocab.txt as BertTokenizer reads it (one token a line, its id the line's number), with the
    settings of tokenizer_config.json and the special tokens of special_tokens_map.json."""
    settings = read_json(folder / "tokenizer_config.json")
    named = {**settings, **read_json(folder / "special_tokens_map.json")}
    specials = {k: token_text(named.get(k, v)) for k, v in BERT_SPECIAL_TOKENS.items()}
    tokens = vocab_tokens((folder / WORDPIECE_VOCAB).read_text(encoding="utf-8"))
    return wordpiece(
        folder,
        config,
        tokens,
        lowercase=bool(settings.get("do_lower_case", True)),
        strip_accents=settings.get("strip_accents"),
        handle_chinese_chars=bool(settings.get("tokenize_chinese_chars", True)),
        clean_text=True,
        unk_token=specials["unk_token"],
        special_tokens=list(dict.fromkeys(specials.values())),
        cls_token=specials["cls_token"],
        continuing_subword_prefix="##",
        max_input_chars_per_word=100,
    )


def wordpiece_from_tokenizer_json(folder: Path, config: ModelConfig, spec: dict) -> TokenizerFiles:
    """A BertTokenizerFast's tokenizer.json: BertNormalizer, BertPreTokenizer, WordPiece."""
    model, normalizer = spec["model"], spec.get("normalizer") or {}
    pre_tokenizer = (spec.get("pre_tokenizer") or {}).get("type")
    if normalizer.get("type") != "BertNormalizer" or pre_tokenizer != "BertPreTokenizer":
        raise TokenizerSourceError(
            f"{folder}/tokenizer.json: a WordPiece tokenizer with normalizer "
            f"{normalizer.get('type')!r} and pre-tokenizer {pre_tokenizer!r}; the export reads "
            "BERT's (BertNormalizer, BertPreTokenizer)"
        )
    vocab = model["vocab"]
    tokens = [""] * len(vocab)
    for token, i in vocab.items():
        if not 0 <= i < len(vocab) or tokens[i]:
            raise TokenizerSourceError(
                f"{folder}/tokenizer.json: ids are not 0 .. {len(vocab) - 1}"
            )
        tokens[i] = token
    specials = [t["content"] for t in spec.get("added_tokens", []) if t.get("special")]
    return wordpiece(
        folder,
        config,
        tokens,
        lowercase=bool(normalizer.get("lowercase", True)),
        strip_accents=normalizer.get("strip_accents"),
        handle_chinese_chars=bool(normalizer.get("handle_chinese_chars", True)),
        clean_text=bool(normalizer.get("clean_text", True)),
        unk_token=model.get("unk_token", "[UNK]"),
        special_tokens=specials,
        cls_token=BERT_SPECIAL_TOKENS["cls_token"],
        continuing_subword_prefix=model.get("continuing_subword_prefix", "##"),
        max_input_chars_per_word=int(model.get("max_input_chars_per_word", 100)),
    )


def wordpiece(
    folder: Path, config: ModelConfig, tokens: list[str], *, cls_token: str, **settings
) -> TokenizerFiles:
    """The manifest's "wordpiece" tokenizer and its vocab.txt; `settings` are its other keys."""
    if len(tokens) != config.vocab_size:
        raise TokenizerSourceError(
            f"{folder}: the tokenizer has {len(tokens)} tokens but config.json "
            f"says vocab_size {config.vocab_size}"
        )
    if any("\n" in t or "\r" in t for t in tokens):
        raise TokenizerSourceError(f"{folder}: a token holds a line break; vocab.txt cannot")
    known = set(tokens)
    missing = [t for t in (settings["unk_token"], *settings["special_tokens"]) if t not in known]
    if missing:
        raise TokenizerSourceError(
            f"{folder}: the vocabulary lacks the special tokens {', '.join(missing)}"
        )
    section = {
        "kind": "wordpiece",
        "files": [WORDPIECE_VOCAB],
        **settings,
        "prompt_prefix": [cls_token] if cls_token in known else [],
        "sampled_special_tokens": [],
    }
    vocab_txt = "".join(t + "\n" for t in tokens).encode("utf-8")
    return TokenizerFiles(section, {WORDPIECE_VOCAB: vocab_txt})
