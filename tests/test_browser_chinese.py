"""The Chinese GPT-2 (a BERT WordPiece vocabulary) in the page, in the Chinese interface: the tiny
uer-layout checkpoint of tests/test_hub_wordpiece.py, exported int8 from an offline hub cache
(its grid weights are exact in 8-bit codes, so the export passes its fidelity gates) and built
into a site of its own. Against the CPython runtime on the same files: the chips are the prompt's
characters after the [CLS] the model reads first, the bars are a numpy softmax over the tokens
sampling may draw, "Generate 5 tokens" is the CLI's and writes no special token; every stage and
the tour's cards open. Marked `browser`; a screenshot goes to out/screenshots/chinese.png."""

import re
import subprocess
import sys

import numpy as np
import pytest

from pyexplainer.core.generation import forward
from pyexplainer.messages import text
from pyexplainer.model_dir import open_model_dir
from pyexplainer.views.head_roles import repeated_random_tokens
from tests.conftest import ROOT, start_server, stop_server
from tests.test_browser import (
    SCREENSHOTS,
    Student,
    assert_drawn_as_cpython_would,
    assert_same_predictions,
    close,
    reference_attention,
)
from tests.test_browser_first_screen import cli_generate, set_settings
from tests.test_browser_locale import STAGES
from tests.test_hub import grid_weights, offline_env, write_hub_repo
from tests.test_hub_wordpiece import UER, UER_SPECIAL_TOKENS_MAP, uer_repo_files, uer_vocab

pytestmark = pytest.mark.browser
PROMPT = "我们的模型游戏世界"  # each character a token of the tiny vocabulary
EXAMPLE = "你好世界"
NAME = "gpt2-chinese-cluecorpussmall"  # as build/hub_models.model_name names it
VOCAB = uer_vocab()
SPECIAL = [VOCAB.index(t) for t in UER_SPECIAL_TOKENS_MAP.values()]  # [UNK] [SEP] [PAD] ...
CLS = VOCAB.index("[CLS]")

CHIPS = """list => [...list.querySelectorAll('.token')].map(c => ({
  id: Number(c.dataset.tokenId), position: Number(c.dataset.position), text: c.textContent,
  special: c.classList.contains('special'), joins: c.classList.contains('joins'),
  title: c.title}))"""


@pytest.fixture(scope="module")
def chinese_export(tmp_path_factory):
    home, out = tmp_path_factory.mktemp("hf_home"), tmp_path_factory.mktemp("uer") / "uer"
    write_hub_repo(home, UER, uer_repo_files(grid_weights(8, seed=2)))
    command = [sys.executable, "-m", "export", "--model", UER, "--out", str(out)]
    command += ["--quantize", "int8", "--name", NAME, "--language", "zh", "--example", EXAMPLE]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=offline_env(home))
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def chinese_site(chinese_export, tmp_path_factory):
    out = tmp_path_factory.mktemp("chinese-site") / "site"
    command = [sys.executable, "build/make_site.py", "--out", str(out)]
    command += ["--model", str(chinese_export), "--default", NAME]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    httpd, url = start_server(out)
    yield url
    stop_server(httpd)


@pytest.fixture(scope="module")
def model(chinese_export):
    return open_model_dir(chinese_export)


@pytest.fixture(scope="module")
def student(chromium, chinese_site):
    s = Student(chromium, chinese_site, locale="zh-CN")
    yield s
    s.assert_no_python_error()
    s.close()


def chips(s: Student) -> list[dict]:
    return s.page.eval_on_selector("[data-testid=token-list]", CHIPS)


def drawable_softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax in float64 over the tokens sampling may draw (the special tokens get 0) (V,)."""
    z = logits.astype(np.float64)
    z[SPECIAL] = -np.inf
    e = np.exp(z - z[np.isfinite(z)].max())
    return e / e.sum()


def test_the_page_opens_in_chinese_with_the_model_and_its_own_example(student):
    assert student.page.evaluate("document.documentElement.lang") == "zh-CN"
    assert NAME in student.page.text_content("[data-testid=model-info]")
    options = student.page.eval_on_selector_all(
        "[data-testid=examples] option", "els => els.map(e => e.textContent)"
    )
    assert EXAMPLE in options[:2]


def test_chips_are_the_characters_after_cls_and_bars_are_the_cpython_softmax(student, model):
    student.run(PROMPT)
    ids = model.tokenizer.encode(PROMPT)
    shown = chips(student)
    assert [c["id"] for c in shown] == ids == [CLS, *(VOCAB.index(c) for c in PROMPT)]
    assert [c["position"] for c in shown] == list(range(len(ids)))
    first, *rest = shown
    assert first["special"] and first["text"] == "[CLS]"
    assert text("ui.token_prefix", "zh-CN", label="[CLS]") in first["title"]
    assert [c["text"] for c in rest] == list(PROMPT)
    assert not any(c["special"] or c["joins"] for c in rest)
    for k, chip in enumerate(rest):
        assert f"{k}-{k + 1}" in chip["title"], chip  # its character's span in the prompt

    logits = forward(model.run, model.manifest.config, ids).last_logits
    expected = drawable_softmax(logits)
    order = np.argsort(-expected, kind="stable")[:15]
    bars = student.predictions()
    assert_same_predictions(bars, [(int(i), float(expected[i])) for i in order])
    labels = student.page.eval_on_selector_all(
        "[data-testid=prediction-list] .label", "els => els.map(e => e.textContent)"
    )
    assert labels == model.tokenizer.token_labels([i for i, _ in bars])  # "◌们" for "##们"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    student.page.set_viewport_size({"width": 1280, "height": 800})
    student.page.screenshot(path=SCREENSHOTS / "chinese.png")


def first_seed_with_a_piece(folder, n: int, **settings) -> tuple[int, list[int]]:
    """The first seed whose CLI generation draws a "##" piece after another token."""
    for seed in range(1, 40):
        ids = cli_generate(folder, PROMPT, n, seed=seed, **settings)
        if any(VOCAB[i].startswith("##") for i in ids[1:]):
            return seed, ids
    raise AssertionError("no seed draws a ## piece")


def test_generate_5_tokens_equals_the_cli_writes_no_special_token_and_joins_pieces(
    student, model, chinese_export
):
    settings = {"temperature": 3.0, "top_k": 0}
    seed, expected = first_seed_with_a_piece(chinese_export, 5, **settings)
    assert not set(expected) & set(SPECIAL)
    values = {"temperature-value": 3.0, "top-k": 0, "generate-count": 5}
    set_settings(student, seed=seed, **values)
    student.run(PROMPT)  # the seed takes effect with a run
    student.act("generate-many")
    prompt = model.tokenizer.encode(PROMPT)
    drawn = student.tokens()[len(prompt) :]
    assert student.tokens()[: len(prompt)] == prompt and len(drawn) == len(expected)
    assert_drawn_as_cpython_would(model, PROMPT, drawn, seed, **settings)
    assert not set(drawn) & set(SPECIAL)
    generated = chips(student)[len(prompt) :]
    for chip, token_id in zip(generated, drawn, strict=True):
        piece = VOCAB[token_id]
        assert chip["joins"] == piece.startswith("##"), (chip, piece)
        assert chip["text"] == model.tokenizer.token_labels([token_id])[0]  # "◌们"
    set_settings(student, **{"temperature-value": 1.0})


def test_the_head_roles_induction_pass_reads_no_special_token(student, model):
    """The page's top induction head scores what numpy gives it on the random sequence drawn
    without the special tokens, which the model never read inside a text."""
    c = model.manifest.config
    ids = repeated_random_tokens(c.n_positions // 2, c.vocab_size, seed=0, banned=SPECIAL)
    assert len(set(ids)) == len(ids) // 2 and not set(ids) & set(SPECIAL)
    student.run(PROMPT)
    student.open("heads")
    student.pick("head-role-select", "induction")
    top = student.page.locator("[data-testid=head-roles] [data-action=open-head]").first
    layer, head = int(top.get_attribute("data-layer")), int(top.get_attribute("data-head"))
    weights, _ = reference_attention(forward(model.run, c, ids), layer)  # (H, T, T)
    n = len(ids) // 2
    expected = np.mean([weights[head, i, i - n + 1] for i in range(n, 2 * n)])
    close(float(top.get_attribute("data-score")), expected)


def test_every_stage_and_every_tour_card_opens_without_an_error(student):
    student.run(PROMPT)
    for kind in STAGES:
        student.open(kind)
        if kind == "lens":
            student.page.wait_for_selector("[data-testid=logit-lens][data-state=ready]")
        assert student.page.get_attribute("[data-testid=status]", "data-state") != "error", kind
        student.assert_no_python_error()
    student.page.click("[data-testid=tour-button]")
    tour = student.page.locator("[data-testid=tour]")
    progress = tour.locator(".tour-progress")
    n_cards = int(re.findall(r"\d+", progress.text_content())[-1])
    bodies = []
    for _ in range(n_cards):
        bodies.append(tour.locator(".tour-body").text_content())
        student.page.keyboard.press("ArrowRight")
    student.page.keyboard.press("Escape")
    assert len(set(bodies)) == n_cards and all(bodies)
    last = VOCAB.index(PROMPT[-1])
    tokens_card = text(
        "tour.tokens.body_prefix", "zh-CN", n_tokens=len(PROMPT) + 1, vocab_size=len(VOCAB),
        first_label="[CLS]", first_id=CLS, n_text=len(PROMPT), last_label=PROMPT[-1], last_id=last,
    )  # fmt: skip
    assert tokens_card in bodies  # [CLS] is no token of the student's text
    student.assert_no_python_error()
