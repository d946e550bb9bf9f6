"""Stages: which view the detail panel shows. As the overview, the tabs and links write it, a stage
id, a tuple of its parts; once checked against the model, the page holds it as a Stage.

    embedding  output  heads  lens  whatif      the whole model: no block
    attribution                                 (the last position)
    attention,B  mlp,B  residual,B              block B, 0 <= B < L
    layernorm,B,ln1  layernorm,B,ln2            a block's two layer norms, 0 <= B < L
    layernorm,L,lnf                             the final layer norm: it reads residual[L]
"""

from __future__ import annotations

import dataclasses
import re

StageId = tuple[str | int, ...]
WHOLE_MODEL_STAGES = ("embedding", "output", "heads", "lens", "whatif", "attribution")
BLOCK_STAGES = ("attention", "mlp", "residual")
BLOCK_LAYER_NORMS = ("ln1", "ln2")
FINAL_LAYER_NORM = "lnf"
LAYER_NORMS = (*BLOCK_LAYER_NORMS, FINAL_LAYER_NORM)
DEFAULT_STAGE: StageId = ("embedding",)
_INTEGER = re.compile(r"-?[0-9]+")  # ASCII only: int() would also take "١" and refuse "²"


@dataclasses.dataclass(frozen=True)
class Stage:
    """The open stage as the page holds it: its kind, the block of a block's stage, and which
    layer norm. Made from a checked stage id (Stage.of), written back as one (Stage.id)."""

    kind: str
    block: int | None = None  # attention, mlp, residual, layernorm; L for the final layer norm
    norm: str | None = None  # of a layer norm: ln1, ln2 or lnf

    @classmethod
    def of(cls, stage_id: StageId) -> Stage:
        """The Stage of a stage id check_stage accepted: ("layernorm", 2, "ln1") -> Stage(
        "layernorm", 2, "ln1")."""
        return cls(*stage_id)

    @property
    def id(self) -> StageId:
        """The stage id, as links and the overview write it."""
        return tuple(part for part in (self.kind, self.block, self.norm) if part is not None)

    @property
    def text(self) -> str:
        return stage_text(self.id)


class StageError(ValueError):
    """A view or head this model does not have; `part` names it as a link writes it."""

    def __init__(self, part: str, reason: str):
        super().__init__(f"{part}: {reason}")
        self.part = part


def stage_from_text(raw: str) -> StageId:
    """ "attention,2" -> ("attention", 2): integer parts become ints. Any text gives a tuple;
    check_stage says whether the model has that stage."""
    return tuple(int(part) if _INTEGER.fullmatch(part) else part for part in raw.split(","))


def stage_text(stage: StageId) -> str:
    """("attention", 2) -> "attention,2"."""
    return ",".join(str(part) for part in stage)


def check_stage(stage: StageId, n_layer: int) -> StageId:
    """stage if a model of n_layer blocks has it, else a StageError saying what is wrong."""
    part = f"view={stage_text(stage)}"
    kind, *rest = stage or ("",)
    if kind in WHOLE_MODEL_STAGES:
        if rest:
            raise StageError(part, f"{kind} is a view of the whole model, with no block")
    elif kind in BLOCK_STAGES:
        if len(rest) != 1:
            raise StageError(part, f"{kind} takes one block number")
        _check_block(part, rest[0], n_layer)
    elif kind == "layernorm":
        if len(rest) != 2:
            raise StageError(part, "layernorm takes a block number and ln1, ln2 or lnf")
        block, which = rest
        if which in BLOCK_LAYER_NORMS:
            _check_block(part, block, n_layer)
        elif which != FINAL_LAYER_NORM:
            raise StageError(part, f"no layer norm {which!r}: ln1, ln2 or lnf")
        elif not (_is_index(block) and block == n_layer):
            raise StageError(part, f"the final layer norm is layernorm,{n_layer},lnf")
    else:
        raise StageError(part, f"no view {kind!r}")
    return stage


def parse_stage(raw: str, n_layer: int) -> StageId:
    """The stage a stage id names, checked against a model of n_layer blocks."""
    return check_stage(stage_from_text(raw), n_layer)


def check_head(head: int, n_head: int) -> int:
    """head if a model of n_head heads per block has it, else a StageError."""
    if not (_is_index(head) and 0 <= head < n_head):
        raise StageError(f"head={head}", f"this model's heads are 0 to {n_head - 1}")
    return head


def _check_block(part: str, block, n_layer: int) -> None:
    if not (_is_index(block) and 0 <= block < n_layer):
        raise StageError(part, f"this model's blocks are 0 to {n_layer - 1}")


def _is_index(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
