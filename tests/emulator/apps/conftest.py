"""Sample slides with ground truth, generated once per test session, and their analysis results."""

from __future__ import annotations

import pytest

from aignostics_jupyter.emulator.apps import ProducedArtifact, analyse
from aignostics_jupyter.samples import SampleSlide, generate_sample_slides

ACCURACY_SIZE = 3072


@pytest.fixture(scope="session")
def sample_slides(tmp_path_factory: pytest.TempPathFactory) -> list[SampleSlide]:
    """Three different 3072 px SVS sample slides at 0.25 µm/px."""
    return generate_sample_slides(tmp_path_factory.mktemp("samples"), count=3, size=ACCURACY_SIZE, seed=21)


@pytest.fixture(scope="session")
def he_tme_results(
    sample_slides: list[SampleSlide], tmp_path_factory: pytest.TempPathFactory
) -> list[tuple[SampleSlide, list[ProducedArtifact]]]:
    """he-tme 1.3.0 run on each sample slide."""
    results = []
    for slide in sample_slides:
        out = tmp_path_factory.mktemp("he-tme")
        metadata = {
            "resolution_mpp": slide.mpp,
            "width_px": slide.width,
            "height_px": slide.height,
            "checksum_base64_crc32c": slide.checksum_base64_crc32c,
        }
        results.append((slide, analyse("he-tme", "1.3.0", slide.path, metadata, out)))
    return results
