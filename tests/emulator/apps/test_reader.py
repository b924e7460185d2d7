"""Reading slides for analysis: whole-slide overviews at any integer downsample match the base pixels."""

from __future__ import annotations

import numpy as np
import pytest

from aignostics_jupyter.emulator.apps.reader import open_analysis_slide
from aignostics_jupyter.emulator.apps.tissue import detect_tissue, working_downsample
from aignostics_jupyter.samples import SampleSlide, generate_sample_slide

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSlide:
    path = tmp_path_factory.mktemp("sample") / "odd.svs"
    return generate_sample_slide(path, size=3000, height=2000, mpp=0.3, seed=8)


@pytest.mark.parametrize("downsample", [4, 7, 8, 16])
def test_read_downsampled_matches_block_means_of_the_base(sample: SampleSlide, downsample: int) -> None:
    slide = open_analysis_slide(sample.path, {"resolution_mpp": 0.3}, sample.path.parent)
    try:
        overview = slide.read_downsampled(downsample, chunk=512)
        base = slide.read_base(0, 0, slide.width, slide.height).astype(np.float32)
    finally:
        slide.close()
    rows, cols = -(-2000 // downsample), -(-3000 // downsample)
    assert overview.shape == (rows, cols, 3)
    full_r, full_c = 2000 // downsample, 3000 // downsample
    expected = base[: full_r * downsample, : full_c * downsample].reshape(full_r, downsample, full_c, downsample, 3)
    expected = expected.mean(axis=(1, 3))
    assert np.abs(overview[:full_r, :full_c].astype(np.float32) - expected).mean() < 3.0


def test_working_resolution_is_about_two_microns_and_bounded() -> None:
    assert working_downsample(4096, 4096, 0.25) == 8
    assert working_downsample(4096, 4096, 1.0) == 2
    assert working_downsample(150_000, 100_000, 0.25) == 25


@pytest.mark.timeout(30)
def test_tissue_on_a_non_square_slide_with_odd_level_factors(sample: SampleSlide) -> None:
    slide = open_analysis_slide(sample.path, {"resolution_mpp": 0.3, "width_px": 3000}, sample.path.parent)
    try:
        tissue = detect_tissue(slide)
    finally:
        slide.close()
    assert tissue.downsample == 7  # level 1 is 4x: read there and resized by 1.75
    assert tissue.mask.shape == (-(-2000 // 7), -(-3000 // 7))
    assert tissue.area_mm2 == pytest.approx(sample.tissue_area_mm2, rel=0.1)
