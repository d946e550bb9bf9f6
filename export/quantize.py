"""Block-wise weight quantization in the layout of onnxruntime's MatMulNBits and
GatherBlockQuantized (com.microsoft contrib operators), which compute straight from it: the
weights stay small in memory while the model runs.

A matrix is cut into blocks of `block` consecutive values along its reduction axis; each block
keeps one float32 scale, and each value a `bits`-bit code: symmetric, q = round(w / scale) in
[-2**(bits - 1), 2**(bits - 1) - 1], the scale chosen per block to make the block's squared
error least (SCALE_FRACTIONS), stored as the unsigned code q + 2**(bits - 1) (the operators'
default zero point), 4-bit codes two to a byte, the lower one in the low nibble. The weight the
model computes with is (code - 2**(bits - 1)) * scale.
"""

from __future__ import annotations

import numpy as np

BITS = (4, 8)
BLOCK_SIZES = (16, 32, 64, 128, 256)  # powers of two, as MatMulNBits asks


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


def quantize_rows(w: np.ndarray, bits: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """w (R, C): each row quantized in blocks along C -> codes (R, C / block, block * bits / 8)
    uint8 and scales (R, C / block) float32."""
    if bits not in BITS:
        raise QuantizationError(f"bits must be one of {BITS}, not {bits}")
    rows, cols = w.shape
    blocks = w.astype(np.float32).reshape(rows, cols // block, block)  # (R, C/b, b)
    qmax = 2 ** (bits - 1) - 1  # codes -qmax - 1 .. qmax
    largest = np.abs(blocks).max(axis=-1)  # (R, C/b)
    largest = np.where(largest == 0, 1.0, largest)
    best_scale, best_error = None, None
    for fraction in SCALE_FRACTIONS:
        scale = (largest * fraction / qmax).astype(np.float32)  # (R, C/b)
        q = np.clip(np.rint(blocks / scale[..., None]), -qmax - 1, qmax)
        error = ((q * scale[..., None] - blocks) ** 2).sum(axis=-1)  # (R, C/b)
        if best_scale is None:
            best_scale, best_error = scale, error
        else:
            better = error < best_error
            best_scale = np.where(better, scale, best_scale)
            best_error = np.where(better, error, best_error)
    q = np.clip(np.rint(blocks / best_scale[..., None]), -qmax - 1, qmax).astype(np.int16)
    codes = (q + qmax + 1).astype(np.uint8)  # (R, C/b, b): the zero point is qmax + 1
    if bits == 4:
        codes = codes[..., 0::2] | (codes[..., 1::2] << 4)  # (R, C/b, b/2)
    return codes, best_scale


def quantize_matmul_weight(
    w: np.ndarray, bits: int, block: int, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """A linear layer's weight w (K, N), used as x @ w, in MatMulNBits' layout: B (N, K / block,
    block * bits / 8) uint8, quantized along K, and scales (N, K / block)."""
    check_block(block, w.shape[0], what)
    return quantize_rows(w.T, bits, block)


def quantize_embedding(w: np.ndarray, bits: int, block: int, what: str):
    """An embedding (V, D), one row per token: rows quantized along D, the layout both
    GatherBlockQuantized (gathering rows) and MatMulNBits (x @ w.T, N = V, K = D) read."""
    check_block(block, w.shape[1], what)
    return quantize_rows(w, bits, block)


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
