from __future__ import annotations

import pytest

from aignostics_jupyter.slides.opener import sniff

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n....", "a PNG image"),
        (b"\xff\xd8\xff\xe0", "a JPEG image"),
        (b"II*\x00", "a TIFF file"),
        (b"II+\x00", "a BigTIFF file"),
        (b"PK\x03\x04", "a ZIP archive (unpack it first)"),
        (b"\x00" * 128 + b"DICM", "a DICOM file"),
        ("Grüße\n".encode(), "a text file"),
        (b"\x00\x01\x02", "an unknown kind of file"),
    ],
)
def test_sniff(head: bytes, kind: str) -> None:
    assert sniff(head) == kind
