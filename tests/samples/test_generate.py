"""Writing sample slides with ground truth, in every format, and the sample-slides command line."""

from __future__ import annotations

import json
from pathlib import Path

import openslide
import pytest

from aignostics_jupyter.checksums import crc32c_file
from aignostics_jupyter.samples import generate_sample_slide, generate_sample_slides, main

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("fmt", ["svs", "tiff", "dicom"])
@pytest.mark.timeout(60)
def test_generated_slides_open_in_openslide(tmp_path: Path, fmt: str) -> None:
    slides = generate_sample_slides(tmp_path, count=2, size=2048, fmt=fmt, seed=3, mpp=0.5)
    assert len(slides) == 2
    for slide in slides:
        target = slide.path
        if fmt == "dicom":
            target = sorted(slide.path.iterdir())[0]
        handle = openslide.OpenSlide(target)
        try:
            assert handle.dimensions == (2048, 2048)
            assert float(handle.properties[openslide.PROPERTY_NAME_MPP_X]) == pytest.approx(0.5, rel=1e-3)
            assert handle.level_count >= 2
            region = handle.read_region((0, 0), handle.level_count - 1, (64, 64))
            assert region.size == (64, 64)
        finally:
            handle.close()
        tissue = json.loads(slide.tissue_geojson.read_text())
        assert tissue["type"] == "FeatureCollection"
        assert any(f["properties"]["classification"]["name"] == "tissue" for f in tissue["features"])
        nuclei = json.loads(slide.nuclei_geojson.read_text())
        assert len(nuclei["features"]) == sum(slide.nuclei_counts.values()) > 0
        assert all(f["geometry"]["type"] == "Point" for f in nuclei["features"])
        if fmt != "dicom":
            assert slide.checksum_base64_crc32c == crc32c_file(slide.path)
    assert slides[0].nuclei_counts != slides[1].nuclei_counts


@pytest.mark.timeout(60)
def test_same_seed_writes_the_same_slide(tmp_path: Path) -> None:
    a = generate_sample_slide(tmp_path / "a.svs", size=1024, seed=11)
    b = generate_sample_slide(tmp_path / "b.svs", size=1024, seed=11)
    assert a.nuclei_counts == b.nuclei_counts
    assert a.tissue_area_mm2 == b.tissue_area_mm2
    assert a.tissue_geojson.read_text() == b.tissue_geojson.read_text()


@pytest.mark.timeout(60)
def test_cli_writes_slides_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main([str(tmp_path / "out"), "--count", "2", "--size", "1024", "--format", "tiff", "--seed", "4"])
    assert status == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [
        "sample-4000.nuclei.geojson",
        "sample-4000.tiff",
        "sample-4000.tissue.geojson",
        "sample-4001.nuclei.geojson",
        "sample-4001.tiff",
        "sample-4001.tissue.geojson",
    ]
    out = capsys.readouterr().out
    assert "sample-4000.tiff" in out
    assert "tissue" in out


def test_cli_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path), "--size", "10"]) == 2
    assert "out of range" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--format", "png"])
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--count", "0"])


@pytest.mark.timeout(60)
def test_cli_shows_a_progress_line_for_big_slides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aignostics_jupyter.samples import generate

    monkeypatch.setattr(generate, "_PROGRESS_FROM_PX", 1024 * 1024)
    assert main([str(tmp_path), "--count", "1", "--size", "1024", "--format", "dicom", "--mpp", "0.5"]) == 0
    err = capsys.readouterr().err
    assert "slide 1/1:" in err
    assert "100.0%" in err
    fractions = [float(part.split("%")[0].split(":")[-1]) for part in err.split("\r") if "%" in part]
    assert fractions == sorted(fractions)
    assert (tmp_path / "sample-0000").is_dir()
