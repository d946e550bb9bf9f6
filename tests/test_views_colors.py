"""Heatmap colour scales: the ends, the middle, clipping and masked cells, as RGBA bytes; the
scales as people with colour-vision deficiency see them; WCAG contrast of text."""

import numpy as np
import pytest

from pyexplainer.views.colors import (
    MISSING,
    ZERO,
    contrast_ratio,
    diverging_rgba,
    readable_text,
    sequential_rgba,
    symmetric_limit,
)


def test_diverging_runs_blue_white_orange_and_clips():
    rgba = diverging_rgba(np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 7.0, -np.inf]), limit=1.0)
    assert rgba.dtype == np.uint8 and rgba.shape == (7, 4)
    assert rgba[:, 3].tolist() == [255] * 7
    assert rgba[0, :3].tolist() == rgba[1, :3].tolist() == [33, 102, 172]  # clipped at -limit
    assert rgba[2, :3].tolist() == [247, 247, 247]
    assert rgba[3, :3].tolist() == [round((247 + 230) / 2), round((247 + 97) / 2), 124]
    assert rgba[4, :3].tolist() == rgba[5, :3].tolist() == [230, 97, 1]
    assert rgba[6, :3].tolist() == [214, 214, 214]  # masked: grey, not a colour of the scale


def test_sequential_runs_white_to_blue_over_probabilities():
    rgba = sequential_rgba(np.array([[0.0, 1.0], [0.25, np.nan]]))
    assert rgba.shape == (2, 2, 4)
    assert rgba[0, 0, :3].tolist() == [247, 247, 247] and rgba[0, 1, :3].tolist() == [8, 48, 107]
    assert rgba[1, 0, :3].tolist() == [round(247 - 0.25 * 239), round(247 - 0.25 * 199), 212]
    assert rgba[1, 1, :3].tolist() == [214, 214, 214]


def test_symmetric_limit_ignores_infinities():
    assert symmetric_limit(np.array([1.0, -3.0]), np.array([-np.inf, 2.0])) == 3.0
    assert symmetric_limit(np.array([-np.inf])) == 1.0


# ------------------------------------------------------------------ colour-vision deficiency

# Machado, Oliveira and Fernandes (2009), "A Physiologically-based Model for Simulation of Color
# Vision Deficiency", IEEE TVCG 15(6): the severity-1.0 matrices of their supplementary table
# (https://www.inf.ufrgs.br/~oliveira/pubs_files/CVD_Simulation/CVD_Simulation.html), applied to
# linear RGB.
MACHADO_2009 = {
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}
VISIONS = ["normal", *MACHADO_2009]
SRGB_TO_XYZ = np.array(  # IEC 61966-2-1, D65
    [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
)
D65 = np.array([0.95047, 1.0, 1.08883])
STEPS = 9
# A neighbour on a 9-step scale must be told apart at a glance: ΔE*ab 8 is over three times the
# just-noticeable difference (about 2.3); the two sides of the diverging scale, far more.
NEIGHBOURS_DELTA_E = 8.0
MIRROR_DELTA_E = 20.0  # -t against +t, for t >= 1/4 of the range


def linear_rgb(rgb) -> np.ndarray:
    c = np.asarray(rgb, dtype=np.float64)[..., :3] / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def cie_lab(linear: np.ndarray) -> np.ndarray:
    """(..., 3) linear sRGB -> (..., 3) CIE L*a*b* (D65)."""
    t = linear @ SRGB_TO_XYZ.T / D65
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1
    )


def seen(rgba: np.ndarray, vision: str) -> np.ndarray:
    """(..., 3+) sRGB bytes -> CIE L*a*b* as seen with `vision` (Machado 2009, severity 1)."""
    linear = linear_rgb(rgba)
    if vision != "normal":
        linear = np.clip(linear @ np.array(MACHADO_2009[vision]).T, 0, 1)
    return cie_lab(linear)


def delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """CIE76 colour difference."""
    return np.linalg.norm(a - b, axis=-1)


def test_lab_conversion_matches_published_values():
    np.testing.assert_allclose(seen([255, 255, 255], "normal"), [100, 0, 0], atol=0.05)
    np.testing.assert_allclose(seen([255, 0, 0], "normal"), [53.24, 80.09, 67.20], atol=0.05)
    np.testing.assert_allclose(seen([0, 0, 255], "normal"), [32.30, 79.19, -107.86], atol=0.05)


@pytest.mark.parametrize("vision", VISIONS)
def test_the_diverging_scale_survives_colour_blindness(vision):
    t = np.linspace(-1, 1, STEPS)
    lab = seen(diverging_rgba(t, 1.0), vision)
    assert delta_e(lab[1:], lab[:-1]).min() > NEIGHBOURS_DELTA_E
    middle = STEPS // 2
    for i in range(middle // 2, middle + 1):  # -t and +t from a quarter of the range on
        assert delta_e(lab[middle - i], lab[middle + i]) > MIRROR_DELTA_E, t[middle + i]
    lightness = lab[:, 0]  # each side darkens steadily away from white
    assert np.all(np.diff(lightness[: middle + 1]) > 0) and np.all(np.diff(lightness[middle:]) < 0)
    assert delta_e(seen(MISSING, vision), seen(ZERO, vision)) > NEIGHBOURS_DELTA_E


@pytest.mark.parametrize("vision", VISIONS)
def test_the_sequential_scale_stays_ordered_for_colour_blindness(vision):
    lab = seen(sequential_rgba(np.linspace(0, 1, STEPS)), vision)
    assert np.all(np.diff(lab[:, 0]) < 0)  # more probable, darker: the order survives
    assert delta_e(lab[1:], lab[:-1]).min() > NEIGHBOURS_DELTA_E


# ------------------------------------------------------------------ WCAG contrast


@pytest.mark.parametrize(
    "text, background, ratio",
    [  # published WCAG 2 values
        ((0, 0, 0), (255, 255, 255), 21.0),
        ((255, 255, 255), (255, 255, 255), 1.0),
        ((0x76, 0x76, 0x76), (255, 255, 255), 4.54),  # the lightest grey passing AA on white
        ((0x77, 0x77, 0x77), (255, 255, 255), 4.48),
        ((0x95, 0x95, 0x95), (255, 255, 255), 3.0),  # large text's AA threshold
        ((255, 0, 0), (255, 255, 255), 4.0),
        ((0, 0, 255), (255, 255, 255), 8.59),
    ],
)
def test_contrast_ratio_matches_wcag(text, background, ratio):
    assert contrast_ratio(text, background) == pytest.approx(ratio, abs=0.01)
    assert contrast_ratio(background, text) == contrast_ratio(text, background)


@pytest.mark.parametrize("scale", ["diverging", "sequential"])
def test_numbers_on_heatmap_colours_pass_aa(scale):
    t = np.linspace(-1, 1, 201) if scale == "diverging" else np.linspace(0, 1, 101)
    rgba = diverging_rgba(t, 1.0) if scale == "diverging" else sequential_rgba(t)
    worst = min(contrast_ratio(readable_text(c[:3]), c[:3]) for c in rgba)
    assert worst >= 4.5
