"""Heatmap colour scales: the ends, the middle, clipping and masked cells, as RGBA bytes."""

import numpy as np

from pyexplainer.views.colors import diverging_rgba, sequential_rgba, symmetric_limit


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
