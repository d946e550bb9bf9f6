"""Block-wise weight quantization in the layouts the model's operators read: standard ONNX
DequantizeLinear (opset 21, blocked) for the attention and MLP matrices and the tied output
layer, onnxruntime's GatherBlockQuantized (com.microsoft) for the embeddings' rows.

A matrix is cut into blocks of `block` consecutive values along its reduction axis; each block
keeps one float32 scale, and each value a `bits`-bit code: symmetric, q = round(w / scale) in
[-2**(bits - 1), 2**(bits - 1) - 1], the scale chosen per block to make the block's squared
error least (SCALE_FRACTIONS). The weight the model computes with is q * scale.
- A linear layer's weight (K, N), used as x @ w: the signed codes q as they are, (K, N) int4 or
  int8 (ONNX packs int4 two to a byte, the first in the low nibble), scales (K / block, N).
- An embedding (V, D), one row per token, 8-bit: the unsigned codes q + 128 (V, D / block,
  block) uint8 (GatherBlockQuantized's default zero point is 128), scales (V, D / block).
"""

from __future__ import annotations

import numpy as np

BITS = (4, 8)
BLOCK_SIZES = (16, 32, 64, 128, 256)


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


# Candidate scales, as fractions of max |w| / qmax: clipping the largest values a little often
# rounds the rest more finely; each block keeps the candidate with the least squared error.
SCALE_FRACTIONS = np.linspace(1.0, 0.7, 7)


def quantize_blocks(w: np.ndarray, bits: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """w (R, C): each row quantized in blocks along C -> signed codes q (R, C / block, block)
    int8 and scales (R, C / block) float32."""
    if bits not in BITS:
        raise QuantizationError(f"bits must be one of {BITS}, not {bits}")
    rows, cols = w.shape
    blocks = w.astype(np.float32).reshape(rows, cols // block, block)  # (R, C/b, b)
    qmax = 2 ** (bits - 1) - 1  # codes -qmax - 1 .. qmax
    largest = np.abs(blocks).max(axis=-1)  # (R, C/b)
    largest = np.where(largest == 0, 1.0, largest)
    best_scale, best_error, best_q = None, None, None
    for fraction in SCALE_FRACTIONS:
        scale = (largest * fraction / qmax).astype(np.float32)  # (R, C/b)
        q = np.clip(np.rint(blocks / scale[..., None]), -qmax - 1, qmax)  # (R, C/b, b)
        error = ((q * scale[..., None] - blocks) ** 2).sum(axis=-1)  # (R, C/b)
        if best_scale is None:
            best_scale, best_error, best_q = scale, error, q
        else:
            better = error < best_error
            best_scale = np.where(better, scale, best_scale)
            best_error = np.where(better, error, best_error)
            best_q = np.where(better[..., None], q, best_q)
    return best_q.astype(np.int8), best_scale


def quantize_matmul_weight(
    w: np.ndarray, bits: int, block: int, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """A linear layer's weight w (K, N), used as x @ w -> signed codes (K, N) int8 (values of
    `bits` bits) and scales (K / block, N): quantized along K, DequantizeLinear's blocked
    layout on axis 0."""
    check_block(block, w.shape[0], what)
    q, scales = quantize_blocks(w.T, bits, block)  # (N, K/b, b), (N, K/b): rows are columns of w
    return np.ascontiguousarray(q.reshape(w.shape[1], -1).T), np.ascontiguousarray(scales.T)


EMBEDDING_ZERO_POINT = 128  # GatherBlockQuantized's default for uint8 codes


def quantize_embedding(w: np.ndarray, block: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """An embedding (V, D), one row per token, 8-bit along D -> unsigned codes (V, D / block,
    block) uint8 and scales (V, D / block): the layout GatherBlockQuantized gathers rows from
    and the tied output layer's DequantizeLinear reads."""
    check_block(block, w.shape[1], what)
    q, scales = quantize_blocks(w, 8, block)
    return (q.astype(np.int16) + EMBEDDING_ZERO_POINT).astype(np.uint8), scales


def pack_int4(q: np.ndarray) -> bytes:
    """Signed 4-bit values (any shape, an even count) -> ONNX's int4 raw data: two's complement
    nibbles, two to a byte, the first (in row-major order) in the low nibble."""
    nibbles = (q.ravel().astype(np.int16) & 15).astype(np.uint8)
    return (nibbles[0::2] | (nibbles[1::2] << 4)).tobytes()


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
