"""The quality measures agree with scikit-image and ignore what the mask leaves out."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from editor.blend import crop_face_mask
from editor.metrics import mean_abs_change, pairwise_distance, psnr, ssim


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """A real face, grey, 48x48 like a FER2013 crop."""
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)[30:230, 150:350]
    return cv2.resize(grey, (48, 48), interpolation=cv2.INTER_AREA)


def _noisy(face: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma, face.shape)
    return np.clip(face + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("sigma", [5.0, 25.0])
def test_psnr_and_ssim_match_scikit_image(face, sigma):
    other = _noisy(face, sigma)
    assert psnr(face, other)[0] == pytest.approx(peak_signal_noise_ratio(face, other, data_range=255), abs=1e-9)
    expected = structural_similarity(face, other, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=255)
    assert ssim(face, other)[0] == pytest.approx(expected, abs=1e-9)


def test_measures_take_batches_and_rank_by_damage(face):
    batch = np.stack([_noisy(face, 5), _noisy(face, 20), _noisy(face, 60)])
    references = np.stack([face] * 3)
    assert np.all(np.diff(psnr(references, batch)) < 0)
    assert np.all(np.diff(ssim(references, batch)) < 0)
    assert np.all(np.diff(mean_abs_change(references, batch)) > 0)
    assert ssim(face, face)[0] == pytest.approx(1.0) and mean_abs_change(face, face)[0] == 0


def test_the_mask_hides_changes_outside_the_face(face):
    mask = crop_face_mask(48)
    changed = face.copy()
    changed[mask == 0] = 255 - changed[mask == 0]  # rewrite only the corners
    assert mean_abs_change(face, changed, mask)[0] == 0
    assert psnr(face, changed, mask)[0] > 100
    assert ssim(face, changed)[0] < 0.99  # unmasked, the corners count
    with pytest.raises(ValueError, match="does not match"):
        psnr(face, changed, mask[:40])


def test_pairwise_distance_is_zero_for_copies_and_grows_with_variety(face):
    copies = np.stack([face] * 10)
    assert pairwise_distance(copies) == 0
    varied = np.stack([_noisy(face, 30, seed) for seed in range(10)])
    assert pairwise_distance(varied) > pairwise_distance(np.stack([_noisy(face, 5, s) for s in range(10)])) > 0
    assert pairwise_distance(varied[:1]) == 0.0
