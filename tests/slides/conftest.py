"""Generated slides shared by the slides tests (written once per session, small)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aignostics_jupyter.slides.writers import SlideFormat, write_test_pattern_slide

# 3 levels (downsamples 1, 4, 16), edge tiles on both axes, mpp 0.5 at 20x.
WIDTH, HEIGHT, MPP = 2000, 1500, 0.5
SMALLEST = 300
FORMATS: tuple[SlideFormat, ...] = ("svs", "tiff", "dicom")
NAMES = {"svs": "slide.svs", "tiff": "slide.tiff", "dicom": "slide_dicom"}


@pytest.fixture(scope="session")
def slide_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("slides")


@pytest.fixture(scope="session")
def slide_paths(slide_dir: Path) -> dict[str, Path]:
    """One generated test-pattern slide per format (the DICOM one is a directory)."""
    return {
        fmt: write_test_pattern_slide(slide_dir / NAMES[fmt], WIDTH, HEIGHT, fmt, MPP, smallest_level=SMALLEST)
        for fmt in FORMATS
    }
