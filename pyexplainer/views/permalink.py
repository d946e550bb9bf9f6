"""The page's state as a URL query, and back: prompt, model, open view, block/head/token,
sampling settings and generated tokens, so a link restores exactly what its sender saw.

    ?model=demo&prompt=Once+upon&view=attention,2&head=1&token=3&t=0.8&k=40&p=0.9&seed=7&gen=11,12

plus lang=zh-CN (the interface language the link was made in: a teacher's link for a Chinese
class opens in Chinese on an English browser), embed=1 for an iframe (the open view alone,
without the page around it), and for the attribution stage target=ID and vs=ID: the token
whose logit it splits and the second token of a logit difference.

Links pass through chat apps, mail and LMS editors, which mangle them. read_link repairs what
can be told apart from a link to_query wrote, and sets every parameter it still cannot use to
its default, naming it (a LinkProblem), so the page runs with the rest of the link:
- `&amp;` (and `&#38;`, `&#x26;`, or doubled, `&amp;amp;`) stands for `&`;
- percent-encoding applied twice is undone once: when every escape is `%25XX` (or `%2B`), or
  when the whole query was encoded (no `=`, but `%3D`); a value other than the prompt (those
  never hold a `%`) is decoded once more if it has an escape left;
- trailing `,;:!?)` after the link are dropped (to_query escapes them all), and so is a
  trailing `.` unless the last parameter is the prompt (a prompt may end in a full stop, which
  to_query writes as it is); a link cut inside an escape or a character loses that character;
- of a repeated parameter the last one counts (a later edit appended to a link overrides);
- unknown parameters (utm_source, fbclid, ...) are ignored; spaces around names and numbers too;
- numbers must be ASCII, finite and in range (t=nan, t=1e309, p=2 and seed=-1 are named).
"""

from __future__ import annotations

import dataclasses
import math
import re
from urllib.parse import parse_qsl, unquote, unquote_to_bytes, urlencode

from pyexplainer.config import ModelConfig
from pyexplainer.messages import locale_of, text
from pyexplainer.views.stages import (
    DEFAULT_STAGE,
    StageError,
    StageId,
    check_head,
    check_stage,
    stage_from_text,
    stage_text,
)

SHOWN_VALUE_CHARS = 40  # of a bad value, in the message: a mangled one can be a whole paragraph
_AMPERSAND_ENTITY = re.compile(r"&(?:amp|#0*38|#x0*26);", re.IGNORECASE)
_DOUBLED_ONLY = re.compile(r"%(?!25[0-9A-Fa-f]{2}|2[Bb])")  # an escape that is not %25XX or %2B
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_CUT_ESCAPE = re.compile(r"%[0-9A-Fa-f]?$")
_LAST_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+$")
_TRAILING = ",;:!?)"
_INTEGER = re.compile(r"[-+]?[0-9]{1,20}")  # ASCII, up to 2**64: int() takes "١" and "1_000"
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,6})?")


@dataclasses.dataclass(frozen=True)
class PageState:
    prompt: str  # "": keep the page's own text
    model: str = ""
    stage: StageId = DEFAULT_STAGE
    head: int = 0
    position: int = -1  # -1: the last token
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0
    generated: tuple[int, ...] = ()
    embed: bool = False  # one view without the page around it, for an iframe
    target: int | None = None  # the attribution's token; None: the model's top prediction
    versus: int | None = None  # the attribution's second token; None: none
    locale: str = ""  # the interface language; "": the student's own (remembered or browser's)


@dataclasses.dataclass(frozen=True)
class LinkProblem:
    """A parameter of a link that the page cannot use, with the value the link gave it; the
    page uses the parameter's default instead."""

    parameter: str
    value: str

    def message(self, locale: str = "en") -> str:
        value = self.value[:SHOWN_VALUE_CHARS]
        shown = repr(value) + ("…" if len(self.value) > len(value) else "")
        expected = text(EXPECTED[self.parameter], locale)
        return text(
            "ui.link_value_unused", locale, parameter=self.parameter, value=shown, expected=expected
        )


class LinkError(ValueError):
    """A link's parameter that does not parse: `problem` names it and the value given."""

    def __init__(self, problem: LinkProblem):
        super().__init__(problem.message())
        self.problem = problem


def _parameters(state: PageState) -> dict[str, str]:
    return {
        "model": state.model,
        "prompt": state.prompt,
        "view": stage_text(state.stage),
        "head": str(state.head),
        "token": str(state.position),
        "t": repr(state.temperature),
        "k": str(state.top_k),
        "p": repr(state.top_p),
        "seed": str(state.seed),
        "gen": ",".join(str(t) for t in state.generated),
        "embed": "1" if state.embed else "",
        "target": "" if state.target is None else str(state.target),
        "vs": "" if state.versus is None else str(state.versus),
        "lang": state.locale,
    }


def to_query(state: PageState) -> str:
    """The state as a query string (no leading "?"); values at their default are left out."""
    defaults = _parameters(PageState(prompt=""))
    given = _parameters(state)
    return urlencode({k: v for k, v in given.items() if k == "prompt" or v != defaults[k]})


def repaired_query(query: str) -> str:
    """The query a mangled link most likely stood for (see the module's docstring), still
    percent-encoded."""
    raw = query.lstrip("?")
    while _AMPERSAND_ENTITY.search(raw):  # &amp;amp; is &amp; escaped once more
        raw = _AMPERSAND_ENTITY.sub("&", raw)
    for _ in range(3):  # encoded twice, or three times: not forever
        doubled = "%25" in raw and not _DOUBLED_ONLY.search(raw)
        whole = "=" not in raw and "%3d" in raw.lower()
        if not (doubled or whole):
            break
        raw = unquote(raw)
    last_name = raw.rsplit("&", 1)[-1].split("=", 1)[0].strip()
    raw = _CUT_ESCAPE.sub("", raw.rstrip(_TRAILING if last_name == "prompt" else _TRAILING + "."))
    escapes = _LAST_ESCAPES.search(raw)
    cut = _cut_character(unquote_to_bytes(escapes.group())) if escapes else 0
    return raw[: len(raw) - 3 * cut]


def _cut_character(data: bytes) -> int:
    """How many bytes at the end of data are a UTF-8 character cut short (0 if none)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: ASCII or a character's first byte
            length = 1 if byte < 0xC0 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if back < length else 0
    return 0


def link_parameters(query: str) -> dict[str, str]:
    """The known parameters of a (repaired) query, decoded: the last of each repeated one."""
    values = {}
    for name, value in parse_qsl(repaired_query(query), keep_blank_values=True):
        name = name.strip()
        if name not in LINK_PARAMETERS:
            continue
        if name != "prompt":
            value = value.strip()
            if _ESCAPE.search(value):  # decoded once too few: only the prompt may hold a %
                value = unquote(value)
        values[name] = value
    return values


def _integer(raw: str, minimum: int | None = None) -> int:
    if not _INTEGER.fullmatch(raw) or (minimum is not None and int(raw) < minimum):
        raise ValueError(raw)
    return int(raw)


def _decimal(raw: str, low: float, high: float, *, low_open: bool = False) -> float:
    value = float(raw) if _DECIMAL.fullmatch(raw) else math.nan
    if not (math.isfinite(value) and low <= value <= high) or (low_open and value == low):
        raise ValueError(raw)
    return value


def _generated(raw: str) -> tuple[int, ...]:
    return tuple(_integer(part.strip(), 0) for part in raw.split(","))


def _locale(raw: str) -> str:
    """A locale the page has, from a language tag, read as the browser's are (locale_of)."""
    locale = locale_of(raw)
    if locale is None:
        raise ValueError(raw)
    return locale


def _embed(raw: str) -> bool:
    if raw not in ("1", "0"):
        raise ValueError(raw)
    return raw == "1"


READERS = {  # parameter -> (PageState field, value from the link's text)
    "model": ("model", str),
    "view": ("stage", stage_from_text),  # whether the model has it: state_for_model
    "head": ("head", _integer),
    "token": ("position", _integer),
    "t": ("temperature", lambda raw: _decimal(raw, 0, math.inf)),
    "k": ("top_k", lambda raw: _integer(raw, 0)),
    "p": ("top_p", lambda raw: _decimal(raw, 0, 1, low_open=True)),
    "seed": ("seed", lambda raw: _integer(raw, 0)),
    "gen": ("generated", _generated),
    "embed": ("embed", _embed),
    "target": ("target", lambda raw: _integer(raw, 0)),  # in the vocabulary: tokens_for_model
    "vs": ("versus", lambda raw: _integer(raw, 0)),
    "lang": ("locale", _locale),
}
LINK_PARAMETERS = ("prompt", *READERS)
EXPECTED = {  # a parameter that can be wrong -> what it takes, as LinkProblem.message says it
    "prompt": "link.expected.prompt",
    "view": "link.expected.view",
    "head": "link.expected.head",
    "token": "link.expected.token",
    "t": "link.expected.t",
    "k": "link.expected.k",
    "p": "link.expected.p",
    "seed": "link.expected.seed",
    "gen": "link.expected.gen",
    "embed": "link.expected.embed",
    "target": "link.expected.target",
    "vs": "link.expected.target",
    "lang": "link.expected.lang",
}


def read_link(query: str) -> tuple[PageState | None, tuple[LinkProblem, ...]]:
    """The state a query string describes, however mangled, with each parameter it gives that
    cannot be used left at its default and named. No state (None) when it names no prompt.
    Never raises: whether the model has the view and head is for state_for_model to say."""
    values = link_parameters(query)
    if "prompt" not in values:
        return None, ()
    fields, problems = {"prompt": values["prompt"]}, []
    if not values["prompt"]:
        problems.append(LinkProblem("prompt", ""))
    for name, (field, read) in READERS.items():
        raw = values.get(name, "")
        if raw == "":  # a blank value is the default, as to_query leaves it out
            continue
        try:
            fields[field] = read(raw)
        except ValueError:
            problems.append(LinkProblem(name, raw))
    return PageState(**fields), tuple(problems)


def from_query(query: str) -> PageState | None:
    """The state a query string describes, or None when it names no prompt; a LinkError (a
    ValueError) names the first parameter that cannot be used and the value it was given."""
    state, problems = read_link(query)
    if problems:
        raise LinkError(problems[0])
    return state


def query_model(query: str) -> str:
    """The model a query string names (?model=NAME), with or without a whole state; "" if none."""
    return link_parameters(query).get("model", "")


def query_locale(query: str) -> str:
    """The interface language a query string names (?lang=zh-CN), with or without a whole
    state; "" if none, or one the page does not have (read_link names that)."""
    try:
        return _locale(link_parameters(query).get("lang", ""))
    except ValueError:
        return ""


def state_for_model(state: PageState, c: ModelConfig) -> tuple[PageState, StageError | None]:
    """state with its view and head, if model c has them; else with the default view and head 0,
    and the error naming the part of the link this model does not have."""
    try:
        check_stage(state.stage, c.n_layer)
        check_head(state.head, c.n_head)
    except StageError as e:
        return dataclasses.replace(state, stage=DEFAULT_STAGE, head=0), e
    return state, None


def generated_for_model(state: PageState, c: ModelConfig) -> tuple[PageState, LinkProblem | None]:
    """state, or without its generated tokens if one is not in model c's vocabulary, named;
    likewise the attribution's target and second token (the first such part named)."""
    fixes, problems = {}, []
    if any(token >= c.vocab_size for token in state.generated):
        fixes["generated"] = ()
        problems.append(LinkProblem("gen", ",".join(str(t) for t in state.generated)))
    for parameter, field in (("target", "target"), ("vs", "versus")):
        token = getattr(state, field)
        if token is not None and token >= c.vocab_size:
            fixes[field] = None
            problems.append(LinkProblem(parameter, str(token)))
    return dataclasses.replace(state, **fixes), (problems[0] if problems else None)
