"""A fast stand-in analysis: small but valid files for every output artifact of the version.

It checks that the input is a readable TIFF (or DICOM), sleeps ``AIGNOSTICS_LOCAL_SYNTHETIC_DELAY`` seconds
(for tests that need an item to stay PROCESSING), then writes a tiny heatmap TIFF, GeoJSON and CSV per output.
Select it with ``EmulatorConfig(analyser=SYNTHETIC_ANALYSER)`` or ``local serve --analyser synthetic``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.emulator.catalog import get_version

__all__ = ["ItemSystemError", "ItemUserError", "SyntheticArtifact", "analyse"]

_CLASS_COLORS = {"background": [0, 0, 0], "tissue": [230, 120, 160]}


class ItemUserError(Exception):
    """Bad input: the item ends USER_ERROR."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ItemSystemError(Exception):
    """An analysis fault: the item ends SYSTEM_ERROR."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SyntheticArtifact(BaseModel):
    """One produced file (the same shape as the local applications' ``ProducedArtifact``)."""

    name: str
    path: Path
    metadata: dict[str, Any]


def _slide_size(slide_path: Path) -> tuple[int, int]:
    with slide_path.open("rb") as stream:
        head = stream.read(132)
    if head[128:132] == b"DICM":
        return (1, 1)
    if head[:4] not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        raise ItemUserError("INPUT.UNSUPPORTED_FORMAT", f"{slide_path.name} is not a TIFF or DICOM whole slide image")
    import tifffile

    try:
        with tifffile.TiffFile(slide_path) as tif:
            page = tif.pages[0]
            shape = page.shape
            page.asarray()
    except Exception as exc:
        raise ItemUserError("INPUT.UNREADABLE_SLIDE", f"the slide cannot be read: {exc}") from exc
    return int(shape[1]), int(shape[0])


def _write(name: str, mime_type: str, out_dir: Path, size: tuple[int, int], mpp: float) -> SyntheticArtifact:
    stem = name.replace(":", "_")
    metadata: dict[str, Any] = {"media_type": mime_type}
    if mime_type == "image/tiff":
        import numpy as np
        import tifffile

        path = out_dir / f"{stem}.tiff"
        pixels = np.zeros((16, 16, 3), dtype=np.uint8)
        pixels[4:12, 4:12] = _CLASS_COLORS["tissue"]
        tifffile.imwrite(path, pixels, photometric="rgb")
        metadata.update(width=16, height=16, base_mpp=mpp * max(size) / 16, class_colors=_CLASS_COLORS)
    elif mime_type == "text/csv":
        path = out_dir / f"{stem}.csv"
        path.write_text("class,area_um2,count\ntissue,1000.0,1\n")
    else:
        path = out_dir / f"{stem}.json"
        width, height = size
        ring = [[0, 0], [width, 0], [width, height], [0, height], [0, 0]]
        feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                   "properties": {"classification": {"name": "tissue", "color": _CLASS_COLORS["tissue"]}}}  # fmt: skip
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    metadata["checksum_base64_crc32c"] = crc32c_file(path)
    return SyntheticArtifact(name=name, path=path, metadata=metadata)


def analyse(
    application_id: str,
    version_number: str,
    slide_path: Path,
    metadata: Mapping[str, Any],
    out_dir: Path,
    *,
    progress: Callable[[float], None] | None = None,
) -> list[SyntheticArtifact]:
    """Produce one small file per output artifact of the version.

    Raises:
        ItemUserError: When the slide is not a readable TIFF/DICOM.
        ItemSystemError: When the application version is unknown.
    """
    version = get_version(application_id, version_number)
    if version is None:
        raise ItemSystemError("APPLICATION.UNKNOWN_VERSION", f"{application_id} {version_number} is not installed")
    size = _slide_size(slide_path)
    delay = float(os.environ.get("AIGNOSTICS_LOCAL_SYNTHETIC_DELAY", "0") or 0)
    if delay > 0:
        time.sleep(delay)
    mpp = float(metadata.get("resolution_mpp", 0.5))
    produced = [_write(spec.name, spec.mime_type, out_dir, size, mpp) for spec in version.output_artifacts]
    if progress is not None:
        progress(1.0)
    return produced
