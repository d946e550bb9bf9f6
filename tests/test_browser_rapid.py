"""Thirty students click everything at once: actions arriving faster than the model answers are
queued or replaced by a later Run, never dropped; when they stop, the page shows exactly what
the last of them ask for, and its numbers are CPython's for that. Marked `browser`."""

import random

import pytest

from pyexplainer.core.generation import forward
from pyexplainer.core.sampling import next_token_distribution, top_tokens
from tests.test_browser import Student, assert_same_predictions

pytestmark = pytest.mark.browser

PROMPTS = ["The cat sat on the", "Once upon a time", "The teacher asked the students", "Hi"]
TABS = ["embedding", "layernorm", "attention", "mlp", "residual", "output", "heads", "lens",
        "whatif"]  # fmt: skip
SETTINGS = {"temperature": ["0.5", "1", "1.5"], "top-k": ["0", "5", "40"], "top-p": ["1", "0.9"]}

# Fires the actions one after another, a few milliseconds apart, never waiting for the page; says
# what the input held at each Run and which token position each pick chose.
FIRE = """async (actions) => {
  const $ = (testid) => document.querySelector(`[data-testid=${testid}]`);
  const change = (el, value, kind = "change") => {
    el.value = value;
    el.dispatchEvent(new Event(kind, { bubbles: true }));
  };
  const done = [];
  for (const [kind, arg, pause] of actions) {
    let note = null;
    if (kind === "type") $("prompt-input").value = arg;
    else if (kind === "run") { note = $("prompt-input").value; $("run-button").click(); }
    else if (kind === "generate") $("generate-button").click();
    else if (kind === "pick") {
      const rows = $("prediction-list").children;
      if (rows.length) rows[arg % rows.length].click(); else note = "none";
    } else if (kind === "setting") change($(arg[0]), arg[1], "input");
    else if (kind === "tab") $("stage-tabs").querySelector(`[data-kind=${arg}]`).click();
    else if (kind === "layer" || kind === "head" || kind === "position") {
      const select = $(`${kind}-select`);
      const values = Array.from(select.options, (o) => o.value);
      if (values.length) { note = values[arg % values.length]; change(select, note); }
    } else if (kind === "locale") change($("locale-switch"), arg);
    else if (kind === "whatif") {
      const button = document.querySelector("[data-action=run-ablation]");
      if (button) button.click(); else note = "none";
    }
    done.push([kind, note]);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
  return done;
}"""
QUIET = """() => {
  const s = document.querySelector('[data-testid=status]');
  return s.dataset.state === 'ready' && s.dataset.queued === '0';
}"""


def random_actions(rng: random.Random, n: int) -> list:
    kinds = ["type", "run", "generate", "pick", "setting", "tab", "layer", "head", "position",
             "locale", "whatif"]  # fmt: skip
    actions = []
    for _ in range(n):
        kind = rng.choice(kinds)
        arg = {
            "type": lambda: rng.choice(PROMPTS),
            "setting": lambda: (lambda k: [k, rng.choice(SETTINGS[k])])(rng.choice(list(SETTINGS))),
            "tab": lambda: rng.choice(TABS),
            "locale": lambda: rng.choice(["en", "zh-CN", "en"]),
        }.get(kind, lambda: rng.randrange(1000))()
        actions.append([kind, arg, rng.choice([0, 0, 5, 20, 60])])
    return actions


def expected_tokens_and_position(done: list, tokenizer) -> tuple[list[list[int]], int | None]:
    """Which token ids the page may end on (the prompt of the last Run, or one typed after it,
    which the Run may have read when its turn came, then one token per Generate or pick after
    it), and the position a pick after the last text change asks for (None: the last token)."""
    last_run = max(i for i, (kind, _) in enumerate(done) if kind == "run")
    after = done[last_run + 1 :]
    prompts = [done[last_run][1]] + [note for kind, note in after if kind == "type"]
    added = sum(kind == "generate" or (kind == "pick" and note != "none") for kind, note in after)
    texts_changing = [i for i, (kind, note) in enumerate(done) if kind in ("run", "generate")
                      or (kind == "pick" and note != "none")]  # fmt: skip
    picks = [i for i, (kind, _) in enumerate(done) if kind == "position"]
    position = int(done[picks[-1]][1]) if picks and picks[-1] > texts_changing[-1] else None
    return [tokenizer.encode(p) for p in prompts], added, position


def test_a_hundred_actions_fired_without_waiting_end_in_what_the_last_ask_for(
    chromium, server, cpython_model
):
    s = Student(chromium, server)
    errors = []
    s.page.on("pageerror", lambda e: errors.append(str(e)))
    assert s.status() == "ready"
    actions = random_actions(random.Random(7), 100)
    actions[0] = ["type", PROMPTS[0], 0]  # the test's own prompts, from the first Run on
    actions.insert(1, ["run", None, 0])
    # at the end, a token picked while a Run is still under way: the pick is the later wish
    actions += [["type", PROMPTS[2], 0], ["run", None, 0], ["position", 1, 0]]
    done = s.page.evaluate(FIRE, actions)
    s.page.wait_for_function(QUIET, timeout=180_000)
    s.page.wait_for_timeout(1000)  # nothing starts late (the lens, the head roles)
    s.page.wait_for_function(QUIET, timeout=60_000)

    assert not errors, errors
    assert s.page.get_attribute("[data-testid=status]", "data-state") == "ready", s.status()
    s.assert_no_python_error()
    prompts, added, position = expected_tokens_and_position(done, cpython_model.tokenizer)
    ids = s.tokens()
    assert any(ids[: len(p)] == p and len(ids) == len(p) + added for p in prompts), (ids, prompts)
    c = cpython_model.manifest.config
    settings = {
        "temperature": float(s.page.input_value("[data-testid=temperature-value]")),
        "top_k": int(s.page.input_value("[data-testid=top-k]")),
        "top_p": float(s.page.input_value("[data-testid=top-p]")),
    }
    trace = forward(cpython_model.run, c, ids)
    expected = top_tokens(next_token_distribution(trace.last_logits, **settings), 15)
    assert_same_predictions(s.predictions(), [(i, p) for i, p in expected if p > 0])

    tabs = [note for kind, note in done if kind == "tab"]
    last_tab = [a[1] for a in actions if a[0] == "tab"][-1]
    pressed = s.page.get_attribute("[data-testid=stage-tabs] [aria-pressed=true]", "data-kind")
    assert tabs and pressed == last_tab
    heads = [note for kind, note in done if kind == "head" and note is not None]
    if heads:
        assert s.page.input_value("[data-testid=head-select]") == heads[-1]
    shown = int(s.page.input_value("[data-testid=position-select]"))
    assert shown == (len(ids) - 1 if position is None or position >= len(ids) else position)
    locales = [a[1] for a in actions if a[0] == "locale"]
    if locales:
        assert s.page.get_attribute("html", "lang") == locales[-1]
    s.close()
