"""What an application hands back to the runner: one record per output artifact file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["MEDIA_EXTENSIONS", "ProducedArtifact"]

MEDIA_EXTENSIONS = {
    "image/tiff": ".tiff",
    "application/geo+json": ".json",
    "application/json": ".json",
    "text/csv": ".csv",
}
"""File extension per media type, as the official SDK names downloaded artifacts."""


class ProducedArtifact(BaseModel):
    """One output artifact written by a local application.

    Attributes:
        name: The artifact name of the version's output schema, e.g. ``tissue_qc:geojson_polygons``.
        path: The file, inside the ``out_dir`` given to the application.
        metadata: Always ``checksum_base64_crc32c`` and ``media_type``; heatmaps add ``width``, ``height``,
            ``base_mpp`` and ``class_colors``.
    """

    name: str
    path: Path
    metadata: dict[str, Any] = Field(default_factory=dict)
