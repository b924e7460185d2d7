"""The local platform's applications: real image analysis of submitted slides.

The runner calls :func:`analyse` in a worker process for each item. ``test-app`` produces the tissue QC
artifacts; ``he-tme`` adds tissue segmentation, cell detection and classification, and readouts.

Example:
    >>> from aignostics_jupyter.emulator.apps import analyse
    >>> meta = {"resolution_mpp": 0.25}
    >>> artifacts = analyse("he-tme", "1.3.0", Path("slide.svs"), meta, Path("out"))  # doctest: +SKIP
    >>> [a.name for a in artifacts][:1]  # doctest: +SKIP
    ['tissue_qc:segmentation_map_image']
"""

from __future__ import annotations

from aignostics_jupyter.emulator.apps.errors import ItemSystemError, ItemUserError
from aignostics_jupyter.emulator.apps.models import ProducedArtifact
from aignostics_jupyter.emulator.apps.pipeline import APPLICATIONS, OUTPUT_ARTIFACTS, analyse

__all__ = ["APPLICATIONS", "OUTPUT_ARTIFACTS", "ItemSystemError", "ItemUserError", "ProducedArtifact", "analyse"]
