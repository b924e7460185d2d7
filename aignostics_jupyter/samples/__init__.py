"""Procedural H&E sample slides with ground truth, for tests, demos and the local platform.

Example:
    >>> from aignostics_jupyter.samples import generate_sample_slides
    >>> slides = generate_sample_slides(Path("slides"), count=1, size=4096)  # doctest: +SKIP
"""

from __future__ import annotations

from aignostics_jupyter.samples.generate import (
    FORMATS,
    SampleSlide,
    generate_sample_slide,
    generate_sample_slides,
    main,
    sample_renderer,
)
from aignostics_jupyter.samples.nuclei import NUCLEUS_CLASSES

__all__ = [
    "FORMATS",
    "NUCLEUS_CLASSES",
    "SampleSlide",
    "generate_sample_slide",
    "generate_sample_slides",
    "main",
    "sample_renderer",
]
