"""Part-size rules of the resumable multipart uploader."""

from __future__ import annotations

from pathlib import Path

import pytest

from aignostics_jupyter.storage._multipart import MIN_PART_SIZE, MultipartUploader, part_size_for

pytestmark = pytest.mark.unit


def test_part_sizes_respect_the_s3_limits() -> None:
    assert part_size_for(10) == 16 * 1024 * 1024
    assert part_size_for(10, preferred=1) == MIN_PART_SIZE
    huge = 500 * 1024**3  # 500 GiB: 16 MiB parts would be 32,000 of them
    size = part_size_for(huge)
    assert size % (1024 * 1024) == 0
    assert huge / size <= 10_000
    with pytest.raises(ValueError, match="at least"):
        MultipartUploader(lambda *a, **k: None, state_dir=Path("unused"), part_size=1024)
