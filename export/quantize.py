"""Weight quantization in the layouts the runtime graphs read (export/graph.py).

Every weight matrix has one float32 scale per output column, so that an integer matrix product
can be scaled back to floats after the sum: onnxruntime's WebAssembly build multiplies 8-bit
activations by 8-bit weights (MatMulInteger, its SIMD int8 kernel). On the wire a matrix is
smaller than 8 bits a value where the scheme says so:

- int8: a matrix w (K, N) is q * scale[n], q = round(w / scale) in [-127, 127], symmetric, the
  column's scale chosen for the least squared error (SCALE_FRACTIONS). Stored as the unsigned
  codes q + 128 (zero point 128: a uint8 x uint8 product, exact on every processor).
- int4: a 4-bit code c in [-8, 7] times a small integer multiplier m in [1, 16] per block of
  `block` values along K, times the column's float scale: w ~ c * m[block, n] * scale[n]. The
  block's multiplier plays the role of a per-block scale, as in int4 with block scales, but
  c * m is always an int8 code (-128 .. 112), so the page turns the 4-bit codes into the int8
  ones exactly, once at load (pyexplainer/weights_file.py), and WebGPU runs the 4-bit codes as
  they are (MatMulNBits, with m * scale as its block scales).
- The embeddings (token and position) are int8, cut along the model width into blocks of
  embedding_block(D) values, one scale per row and block. The token embedding is also the tied
  output layer: each block is a (block, V) int8 matrix with one scale per token, and the logits
  are the sum of the blocks' products (export/graph.py tied_output).
"""

from __future__ import annotations

import numpy as np

from pyexplainer.weights_file import INT4_ZERO_POINT, INT8_ZERO_POINT

BLOCK_SIZES = (16, 32, 64, 128, 256)  # MatMulNBits takes powers of two from 16
MULTIPLIERS = np.arange(1, 17)  # int4 code (-8..7) * multiplier (1..16) stays within int8
# the int8 code a column's largest value gets: the top int4 code times the top multiplier
INT4_TOP_CODE = 7 * int(MULTIPLIERS[-1])


class QuantizationError(ValueError):
    """The weights cannot be quantized as asked; the message says why."""


def check_block(block: int, length: int, what: str) -> None:
    if block not in BLOCK_SIZES:
        raise QuantizationError(f"block size {block} is not one of {BLOCK_SIZES}")
    if length % block:
        raise QuantizationError(
            f"{what} has {length} values along its reduction axis, which do not divide into "
            f"blocks of {block}: choose a block size that divides {length}"
        )


# Candidate scales, as fractions of max |w| / 127: clipping the largest values a little often
# rounds the rest more finely; each row keeps the candidate with the least squared error.
SCALE_FRACTIONS = np.linspace(1.0, 0.7, 7)


def quantize_rows(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """w (R, C) -> signed int8 codes q (R, C) in [-127, 127] and one float32 scale per row (R,),
    each row's scale the candidate with the least squared error."""
    w = w.astype(np.float32)
    largest = np.abs(w).max(axis=1)  # (R,)
    largest = np.where(largest == 0, 1.0, largest)
    best_scale, best_error, best_q = None, None, None
    for fraction in SCALE_FRACTIONS:
        scale = (largest * fraction / 127).astype(np.float32)  # (R,)
        q = np.clip(np.rint(w / scale[:, None]), -127, 127)  # (R, C)
        error = ((q * scale[:, None] - w) ** 2).sum(axis=1)  # (R,)
        if best_scale is None:
            best_scale, best_error, best_q = scale, error, q
        else:
            better = error < best_error
            best_scale = np.where(better, scale, best_scale)
            best_error = np.where(better, error, best_error)
            best_q = np.where(better[:, None], q, best_q)
    return best_q.astype(np.int8), best_scale


def quantize_int8(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A linear layer's weight w (K, N), used as x @ w -> uint8 codes (K, N) (q + 128) and one
    scale per output column (N,)."""
    q, scales = quantize_rows(w.T)  # (N, K): the rows are w's columns
    return to_unsigned(np.ascontiguousarray(q.T)), scales


def quantize_int4(w: np.ndarray, block: int, what: str):
    """A linear layer's weight w (K, N) -> (nibbles (N, K / block, block / 2) uint8, multipliers
    (N, K / block) uint8, column scales (N,) float32).

    Each column's scale puts its largest value at code 7 * 16; each block keeps the multiplier
    with the least squared error, and its codes c = round(w / (m * scale)) clipped to [-8, 7].
    Nibbles are MatMulNBits' layout: for column n and block b, the unsigned codes c + 8 of
    w[b * block : (b + 1) * block, n], two to a byte, the first in the low nibble."""
    check_block(block, w.shape[0], what)
    columns = w.T.astype(np.float32)  # (N, K)
    n, k = columns.shape
    blocks = columns.reshape(n, k // block, block)  # (N, K/b, b)
    largest = np.abs(columns).max(axis=1)  # (N,)
    scales = (np.where(largest == 0, 1.0, largest) / INT4_TOP_CODE).astype(np.float32)
    best_m = best_error = best_c = None
    for m in MULTIPLIERS:
        step = (scales * m)[:, None, None]  # (N, 1, 1)
        c = np.clip(np.rint(blocks / step), -8, 7)  # (N, K/b, b)
        error = ((c * step - blocks) ** 2).sum(axis=-1)  # (N, K/b)
        if best_m is None:
            best_m, best_error, best_c = np.full(error.shape, m), error, c
        else:
            better = error < best_error
            best_m = np.where(better, m, best_m)
            best_error = np.where(better, error, best_error)
            best_c = np.where(better[..., None], c, best_c)
    nibbles = (best_c + INT4_ZERO_POINT).astype(np.uint8)  # (N, K/b, b) in 0 .. 15
    packed = nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)  # (N, K/b, b/2)
    return packed, best_m.astype(np.uint8), scales


def quantize_embedding(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An embedding (R, D), one row per token or position -> uint8 codes (D, R) (q + 128, a
    row of w per column: the tied output layer's layout, x @ codes) and scales (R,)."""
    q, scales = quantize_rows(w)  # (R, D), (R,)
    return to_unsigned(np.ascontiguousarray(q.T)), scales


def to_unsigned(q: np.ndarray) -> np.ndarray:
    """Signed int8 codes -> the uint8 codes q + 128 that stand for them."""
    return (q.astype(np.int16) + INT8_ZERO_POINT).astype(np.uint8)


def embedding_block(width: int) -> int:
    """The largest block size that divides the model width: the embeddings' blocks (fewer
    scales to store; their 8-bit codes lose little)."""
    fitting = [b for b in BLOCK_SIZES if width % b == 0]
    if not fitting:
        raise QuantizationError(
            f"the model width {width} is not a multiple of {BLOCK_SIZES[0]}: "
            "its embeddings cannot be quantized block-wise"
        )
    return fitting[-1]
