"""Raw JPEG tile passthrough: stored tiles served as they are, pixel-identical to rendering, safe fallbacks."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tifffile
from numpy.typing import NDArray
from PIL import Image

from aignostics_jupyter.exceptions import UnsupportedSlideError
from aignostics_jupyter.slides import open_slide, raw_tiles
from aignostics_jupyter.slides.raw_tiles import (
    RawTileError,
    RawTileIndex,
    RawTileRef,
    TiffLevel,
    plan_raw_tile,
    standalone_jpeg,
)
from aignostics_jupyter.slides.renderer import render_tile_image, zoom_grid
from aignostics_jupyter.slides.service import TileService
from aignostics_jupyter.slides.tiling import ZoomGrid
from aignostics_jupyter.slides.writers import gradient_pattern, write_slide

TILE = 256
# Strict: the stored JPEG decoded by PIL vs by OpenSlide (same data, same libjpeg-turbo family).
MAX_MEAN_ABS_DIFF = 0.5


# ------------------------------------------------------------------------------------------------ helpers


def _segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """``(marker, whole segment)`` up to and including SOS, then ``(0, entropy data + EOI)``."""
    out, pos = [], 2
    while True:
        marker, length = jpeg[pos + 1], int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        out.append((marker, jpeg[pos : pos + 2 + length]))
        pos += 2 + length
        if marker == 0xDA:
            out.append((0, jpeg[pos:]))
            return out


def _abbreviate(jpeg: bytes) -> tuple[bytes, bytes]:
    """Split a complete RGB JPEG like Aperio stores it: JPEGTables, and a tile without APPn/tables, ids 1-2-3."""
    tables, tile = b"", b""
    for marker, segment in _segments(jpeg):
        if marker in (0xDB, 0xC4):
            tables += segment
        elif 0xE0 <= marker <= 0xEF:
            continue
        elif marker == 0xC0:  # SOF: component ids at 10, 13, 16
            seg = bytearray(segment)
            seg[10], seg[13], seg[16] = 1, 2, 3
            tile += bytes(seg)
        elif marker == 0xDA:  # SOS: component ids at 5, 7, 9
            seg = bytearray(segment)
            seg[5], seg[7], seg[9] = 1, 2, 3
            tile += bytes(seg)
        else:
            tile += segment
    return b"\xff\xd8" + tables + b"\xff\xd9", b"\xff\xd8" + tile


def _rgb_jpeg(pixels: NDArray[np.uint8], quality: int = 80) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=quality, keep_rgb=True, subsampling=0)
    return out.getvalue()


def _level_tiles(width: int, height: int, downsample: int) -> Iterator[NDArray[np.uint8]]:
    render = gradient_pattern(width, height)
    l_w, l_h = width // downsample, height // downsample
    for l_y in range(0, l_h, TILE):
        for l_x in range(0, l_w, TILE):
            w, h = min(TILE, l_w - l_x), min(TILE, l_h - l_y)
            pixels = render(downsample, l_x, l_y, w, h)
            yield np.pad(pixels, ((0, TILE - h), (0, TILE - w), (0, 0)), mode="edge")


def write_pyramid_tiff(path: Path, width: int, height: int, *, kind: str, bigtiff: bool = False) -> Path:
    """A generic pyramidal TIFF (downsamples 1 and 4) of the gradient pattern.

    ``kind``: ``rgb-abbreviated`` (Aperio style: photometric RGB, JPEGTables, no APPn markers), ``zlib`` or
    ``none`` (not JPEG at all).
    """
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tif:
        for index, downsample in enumerate((1, 4)):
            shape = (height // downsample, width // downsample, 3)
            subfiletype = 1 if index else 0
            if kind == "rgb-abbreviated":
                tables, tiles = b"", []
                for pixels in _level_tiles(width, height, downsample):
                    tables, tile = _abbreviate(_rgb_jpeg(pixels))
                    tiles.append(tile)
                tif.write(
                    iter(tiles),
                    shape=shape,
                    dtype=np.uint8,
                    tile=(TILE, TILE),
                    subfiletype=subfiletype,
                    metadata=None,
                    compression="jpeg",
                    photometric="rgb",
                    jpegtables=tables,
                    subsampling=(1, 1),
                    compressionargs={"outcolorspace": "RGB"},
                )
            else:
                tif.write(
                    _level_tiles(width, height, downsample),
                    shape=shape,
                    dtype=np.uint8,
                    tile=(TILE, TILE),
                    subfiletype=subfiletype,
                    metadata=None,
                    compression=None if kind == "none" else kind,
                    photometric="rgb",
                )
    return path


def _decoded(data: bytes) -> NDArray[np.int16]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def _all_tiles(path: Path) -> Iterator[tuple[int, int, int]]:
    with open_slide(path) as source:
        grid = zoom_grid(source)
    for z in range(grid.z_top + 1):
        columns, rows = grid.tile_count(z)
        for t_x in range(columns):
            for t_y in range(rows):
                yield z, t_x, t_y


def _compare_all(path: Path) -> int:
    """Every passthrough tile vs OpenSlide's rendering of the same tile; returns how many were compared."""
    index = RawTileIndex.build(path)
    compared = 0
    with open_slide(path) as source:
        grid = zoom_grid(source)
        for tile in _all_tiles(path):
            ref = plan_raw_tile(index, grid, source.level_dimensions, tile)
            if ref is None:
                continue
            raw = _decoded(index.read(ref))
            rendered = np.asarray(render_tile_image(source, *tile), dtype=np.int16)
            assert raw.shape == rendered.shape == (TILE, TILE, 3)
            assert np.abs(raw - rendered).mean() <= MAX_MEAN_ABS_DIFF, tile
            compared += 1
    return compared


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("raw")
    return {
        "rgb": write_pyramid_tiff(folder / "rgb.tiff", 1100, 900, kind="rgb-abbreviated"),
        "rgb-big": write_pyramid_tiff(folder / "rgb-big.tiff", 1100, 900, kind="rgb-abbreviated", bigtiff=True),
        "zlib": write_pyramid_tiff(folder / "zlib.tiff", 1100, 900, kind="zlib"),
        "none": write_pyramid_tiff(folder / "none.tiff", 1100, 900, kind="none"),
        "svs-large": write_slide(
            folder / "large.svs", 4096, 3072, gradient_pattern(4096, 3072), mpp=0.5, fmt="svs", level_step=2
        ),
    }


def _level(photometric: int = 2, tables: bytes = b"", tile: int = TILE) -> TiffLevel:
    empty = np.zeros(1, dtype=np.uint64)
    return TiffLevel(0, tile, tile, tile, tile, 7, photometric, 3, 8, 1, tables, empty, empty)


def _pixels() -> NDArray[np.uint8]:
    pixels = np.zeros((TILE, TILE, 3), dtype=np.uint8)
    pixels[..., 0], pixels[..., 1], pixels[..., 2] = 200, np.arange(TILE)[None, :], 40
    return pixels


# ------------------------------------------------------------------------------------------------ unit


@pytest.mark.unit
def test_abbreviated_rgb_tile_gets_tables_and_an_adobe_marker() -> None:
    pixels = _pixels()
    tables, tile = _abbreviate(_rgb_jpeg(pixels))
    # As stored, with the tables spliced in but no marker, a decoder takes it for YCbCr: wrong colours.
    naive = b"\xff\xd8" + tables[2:-2] + tile[2:]
    assert np.abs(_decoded(naive) - pixels).mean() > 20

    jpeg = standalone_jpeg(tile, _level(photometric=2, tables=tables))

    assert jpeg[:4] == b"\xff\xd8\xff\xee"
    assert jpeg[6:11] == b"Adobe"
    assert jpeg[17] == 0  # transform: none (RGB)
    assert np.abs(_decoded(jpeg) - pixels).mean() < 2


@pytest.mark.unit
def test_complete_ycbcr_jfif_tile_is_served_unchanged() -> None:
    out = io.BytesIO()
    Image.fromarray(_pixels()).save(out, "JPEG", quality=80)
    assert standalone_jpeg(out.getvalue(), _level(photometric=6)) == out.getvalue()


@pytest.mark.unit
def test_tables_go_after_leading_app_segments() -> None:
    out = io.BytesIO()
    Image.fromarray(_pixels()).save(out, "JPEG", quality=80)
    complete = out.getvalue()
    segments = _segments(complete)
    tables = b"\xff\xd8" + b"".join(s for m, s in segments if m == 0xDB) + b"\xff\xd9"
    tile = b"\xff\xd8" + b"".join(s for m, s in segments if m != 0xDB)

    jpeg = standalone_jpeg(tile, _level(photometric=6, tables=tables))

    assert jpeg[2:4] == b"\xff\xe0"  # JFIF stays first
    assert np.array_equal(_decoded(jpeg), _decoded(complete))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "photometric"),
    [
        ("jfif-but-rgb", 2),
        ("adobe-rgb-but-ycbcr", 6),
        ("rgb-ids-but-ycbcr", 6),
        ("no-eoi", 6),
        ("12-bit", 6),
        ("lossless", 6),
        ("wrong-size", 6),
        ("no-tables", 6),
        ("grey", 6),
        ("garbage", 6),
        ("truncated-segment", 6),
    ],
)
def test_streams_that_cannot_be_served_as_they_are(name: str, photometric: int) -> None:
    out = io.BytesIO()
    Image.fromarray(_pixels()).save(out, "JPEG", quality=80)
    jfif = out.getvalue()
    sof = jfif.index(b"\xff\xc0")
    streams = {
        "jfif-but-rgb": jfif,
        "adobe-rgb-but-ycbcr": _rgb_jpeg(_pixels()),
        "no-eoi": jfif[:-2],
        "12-bit": jfif[: sof + 4] + b"\x0c" + jfif[sof + 5 :],
        "lossless": jfif[:sof] + b"\xff\xc3" + jfif[sof + 2 :],
        "wrong-size": jfif[: sof + 5] + b"\x00\x80" + jfif[sof + 7 :],
        "no-tables": _abbreviate(_rgb_jpeg(_pixels()))[1],
        "grey": _grey_jpeg(),
        "garbage": b"\xff\xd8" + os.urandom(200) + b"\xff\xd9",
        "truncated-segment": jfif[:30] + b"\xff\xd9",
    }
    if name == "rgb-ids-but-ycbcr":  # no JFIF/Adobe marker and ids R, G, B: decoders read it as RGB
        tables, stream = _abbreviate(_rgb_jpeg(_pixels()))
        stream, level = _with_ids(stream, b"RGB"), _level(photometric, tables)
    else:
        stream, level = streams[name], _level(photometric)
    with pytest.raises(RawTileError):
        standalone_jpeg(stream, level)


def _with_ids(stream: bytes, ids: bytes) -> bytes:
    sof = stream.index(b"\xff\xc0")
    data = bytearray(stream)
    data[sof + 10], data[sof + 13], data[sof + 16] = ids
    return bytes(data)


def _grey_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("L", (TILE, TILE), 128).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.unit
def test_not_a_tiff(tmp_path: Path) -> None:
    for name, content in {
        "text.tif": b"hello world, not a tiff",
        "short.tif": b"II*",
        "bad.tif": b"II+\x00\x04\x00",
    }.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(RawTileError):
            RawTileIndex.build(tmp_path / name)


# ------------------------------------------------------------------------------------------------ integration


@pytest.mark.integration
@pytest.mark.timeout(60)
@pytest.mark.parametrize("fmt", ["svs", "tiff"])
def test_passthrough_matches_rendering_for_generated_slides(slide_paths: dict[str, Path], fmt: str) -> None:
    # 2000x1500, levels 1/4/16: interior tiles at zoom 3 (native) and zoom 1 (4x) are stored tiles.
    assert _compare_all(slide_paths[fmt]) == 7 * 5 + 1 * 1


@pytest.mark.integration
@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["rgb", "rgb-big", "svs-large"])
def test_passthrough_matches_rendering_for_rgb_bigtiff_and_deep_pyramids(crafted: dict[str, Path], name: str) -> None:
    compared = _compare_all(crafted[name])
    # 1100x900: 4x3 full tiles at native zoom, the 4x level is lower than a tile. 4096x3072 with levels 1/2/4.
    expected = {"rgb": 4 * 3, "rgb-big": 4 * 3, "svs-large": 16 * 12 + 8 * 6 + 4 * 3}
    assert compared == expected[name]


@pytest.mark.integration
def test_bigtiff_and_classic_index_alike(crafted: dict[str, Path]) -> None:
    classic, big = RawTileIndex.build(crafted["rgb"]), RawTileIndex.build(crafted["rgb-big"])
    assert [(lv.width, lv.height, lv.photometric) for lv in classic.levels] == [(1100, 900, 2), (275, 225, 2)]
    assert [(lv.width, lv.height) for lv in big.levels] == [(1100, 900), (275, 225)]
    assert classic.levels[0].jpeg_tables == big.levels[0].jpeg_tables != b""
    ref = RawTileRef(classic.levels[0], 1, 1)
    assert classic.read(ref) == big.read(RawTileRef(big.levels[0], 1, 1))


@pytest.mark.integration
def test_which_tiles_are_stored_tiles(slide_paths: dict[str, Path], crafted: dict[str, Path]) -> None:
    path = slide_paths["svs"]
    index = RawTileIndex.build(path)
    with open_slide(path) as source:
        grid, dims = zoom_grid(source), source.level_dimensions
    assert plan_raw_tile(index, grid, dims, (3, 2, 1)) == RawTileRef(index.levels[0], 2, 1)
    assert plan_raw_tile(index, grid, dims, (3, 7, 5)) is None  # edge tile (padded white by the renderer)
    assert plan_raw_tile(index, grid, dims, (3, 7, 0)) is None  # right edge
    assert plan_raw_tile(index, grid, dims, (2, 1, 1)) is None  # downsample 2: no such level
    assert plan_raw_tile(index, grid, dims, (4, 2, 2)) is None  # beyond native: upsampled
    assert plan_raw_tile(index, grid, dims, (1, 0, 0)) == RawTileRef(index.levels[1], 0, 0)
    assert plan_raw_tile(index, grid, dims, (0, 0, 0)) is None  # downsample 8: no such level
    for kind in ("zlib", "none"):
        other = RawTileIndex.build(crafted[kind])
        assert not other.levels[0].passthrough_capable
        assert plan_raw_tile(other, ZoomGrid(1100, 900), [(1100, 900), (275, 225)], (3, 1, 1)) is None


@pytest.fixture
def service() -> Iterator[TileService]:
    with TileService(workers=2, mode="thread", cache_bytes=2_000_000) as svc:
        yield svc


def _stored_tile(path: Path, level: int, col: int, row: int) -> bytes:
    with tifffile.TiffFile(path) as tif:
        page = [p for p in tif.pages if isinstance(p, tifffile.TiffPage) and p.is_tiled][level]
        index = row * -(-page.imagewidth // page.tilewidth) + col
        tif.filehandle.seek(page.dataoffsets[index])
        return bytes(tif.filehandle.read(page.databytecounts[index]))


@pytest.mark.integration
async def test_service_passes_stored_tiles_through_and_renders_the_rest(
    service: TileService, slide_paths: dict[str, Path]
) -> None:
    svs = slide_paths["svs"]
    tile = await service.get_tile(svs, 3, 2, 1)
    assert tile.data == _stored_tile(svs, 0, 2, 1)  # byte for byte: nothing decoded or encoded
    assert tile.media_type == "image/jpeg"
    assert tile.etag == service.tile_etag(svs, 3, 2, 1)
    assert service.tile_sources() == {"passthrough": 1, "rendered": 0}
    assert (await service.get_tile(svs, 3, 2, 1, quality=80)).data == tile.data  # the default, explicitly

    rendered = [
        await service.get_tile(svs, 3, 2, 1, fmt="png"),
        await service.get_tile(svs, 3, 2, 1, fmt="webp"),
        await service.get_tile(svs, 3, 2, 1, quality=50),
        await service.get_tile(svs, 3, 7, 5),  # edge
        await service.get_tile(svs, 2, 1, 1),  # no native level
        await service.get_tile(svs, 4, 3, 3),  # upsampled
        await service.get_tile(slide_paths["dicom"], 3, 2, 1),  # DICOM: the normal path
    ]
    assert service.tile_sources() == {"passthrough": 1, "rendered": len(rendered)}
    assert rendered[0].media_type == "image/png"
    assert rendered[2].data != tile.data
    await service.get_tile(svs, 3, 2, 1)  # a cache hit counts as neither
    assert service.tile_sources() == {"passthrough": 1, "rendered": len(rendered)}


@pytest.mark.integration
async def test_non_jpeg_tiffs_are_rendered(service: TileService, crafted: dict[str, Path]) -> None:
    for kind in ("zlib", "none"):
        tile = await service.get_tile(crafted[kind], 3, 1, 1)
        assert tile.data[:2] == b"\xff\xd8"
    assert service.tile_sources() == {"passthrough": 0, "rendered": 2}


@pytest.mark.integration
async def test_rgb_passthrough_through_the_service_has_right_colours(
    service: TileService, crafted: dict[str, Path]
) -> None:
    tile = await service.get_tile(crafted["rgb"], 3, 1, 1)
    assert service.tile_sources()["passthrough"] == 1
    expected = gradient_pattern(1100, 900)(1, 256, 256, 256, 256).astype(np.int16)
    assert np.abs(_decoded(tile.data) - expected).mean() < 2


@pytest.mark.integration
def test_sync_api_passes_through(service: TileService, slide_paths: dict[str, Path]) -> None:
    tile = service.get_tile_sync(slide_paths["tiff"], 3, 1, 1)
    assert tile.data == _stored_tile(slide_paths["tiff"], 0, 1, 1)
    assert service.tile_sources() == {"passthrough": 1, "rendered": 0}


@pytest.mark.integration
async def test_a_read_that_would_block_moves_to_a_thread(
    service: TileService, slide_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def would_block(fd: int, length: int, offset: int) -> bytes:
        raise BlockingIOError(11, "not cached")

    monkeypatch.setattr(raw_tiles, "_pread_nowait", would_block)
    tile = await service.get_tile(slide_paths["svs"], 3, 1, 1)
    assert tile.data == _stored_tile(slide_paths["svs"], 0, 1, 1)
    assert service.tile_sources()["passthrough"] == 1


def _patch_tile_entry(path: Path, tag: int, tile_index: int, value: int) -> None:
    """Overwrite one value of TileOffsets (324) or TileByteCounts (325) of the first page, in place."""
    with tifffile.TiffFile(path) as tif:
        entry = tif.pages.first.tags[tag]
        itemsize = entry.valuebytecount // entry.count
        dtype = np.dtype(tif.byteorder + {2: "u2", 4: "u4", 8: "u8"}[itemsize])
        where = entry.valueoffset + tile_index * itemsize
    with path.open("r+b") as f:
        f.seek(where)
        f.write(np.array([value], dtype=dtype).tobytes())


@pytest.mark.integration
@pytest.mark.parametrize(
    ("tag", "value", "outcome"),
    [
        (324, 2**31, "refused"),  # offset outside the file: the opener refuses the file as truncated
        (325, 2**30, "refused"),  # a byte count reaching beyond the file: the same
        (325, 0, "rendered"),  # an empty tile: OpenSlide shows it as (white) glass
        (324, 16, "error"),  # an offset into the TIFF header: not a JPEG; OpenSlide cannot decode it either
    ],
    ids=["offset-outside", "count-huge", "count-zero", "offset-garbage"],
)
async def test_corrupt_tile_entries_fall_back_never_serve_garbage(
    service: TileService, slide_paths: dict[str, Path], tmp_path: Path, tag: int, value: int, outcome: str
) -> None:
    path = tmp_path / "corrupt.svs"
    shutil.copy(slide_paths["svs"], path)
    _patch_tile_entry(path, tag, 8 + 2, value)  # tile (2, 1) of level 0: 8 columns
    index = RawTileIndex.build(path)
    with pytest.raises(RawTileError):
        index.read(RawTileRef(index.levels[0], 2, 1))

    if outcome == "rendered":
        tile = await service.get_tile(path, 3, 2, 1)
        assert (_decoded(tile.data) >= 250).all()
    else:
        with pytest.raises(UnsupportedSlideError, match=r"corrupt\.svs"):
            await service.get_tile(path, 3, 2, 1)
    assert service.tile_sources()["passthrough"] == 0
    if outcome != "refused":  # the other tiles still pass through
        assert (await service.get_tile(path, 3, 3, 1)).data == _stored_tile(path, 0, 3, 1)


@pytest.mark.integration
async def test_a_changed_file_is_reindexed_and_gets_a_new_etag(service: TileService, tmp_path: Path) -> None:
    path = write_pyramid_tiff(tmp_path / "s.tiff", 1100, 900, kind="rgb-abbreviated")
    first = await service.get_tile(path, 3, 1, 1)
    index = RawTileIndex.build(path)
    replacement = write_slide(tmp_path / "t.tiff", 1100, 900, gradient_pattern(900, 1100), mpp=0.5, fmt="tiff")
    shutil.move(replacement, path)
    with pytest.raises(RawTileError, match="changed"):
        index.read(RawTileRef(index.levels[0], 1, 1))

    second = await service.get_tile(path, 3, 1, 1)

    assert second.etag != first.etag
    assert second.data == _stored_tile(path, 0, 1, 1) != first.data
    assert service.tile_sources() == {"passthrough": 2, "rendered": 0}


def _classic_tiff(entries: list[tuple[int, int, int, int]], next_ifd: int = 0, ifd_count: int | None = None) -> bytes:
    """A little-endian classic TIFF with one IFD at offset 8 of ``(tag, type, count, inline value)`` entries."""
    body = b"II*\x00" + (8).to_bytes(4, "little") + (ifd_count or len(entries)).to_bytes(2, "little")
    for tag, typ, count, value in entries:
        body += tag.to_bytes(2, "little") + typ.to_bytes(2, "little") + count.to_bytes(4, "little")
        body += value.to_bytes(4, "little")
    return body + next_ifd.to_bytes(4, "little") + b"\x00" * 64


@pytest.mark.unit
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_classic_tiff([(256, 3, 1, 512)], next_ifd=8), "loop"),
        (b"II*\x00" + (10**6).to_bytes(4, "little") + b"\x00" * 16, "outside the file"),
        (_classic_tiff([(256, 3, 1, 512)], ifd_count=60000), "entries"),
        (b"II+\x00\x04\x00\x00\x00" + b"\x10" + b"\x00" * 15, "BigTIFF header"),
        (_classic_tiff([(322, 3, 1, 0), (323, 3, 1, 256), (324, 4, 1, 200), (325, 4, 1, 10)]), "tile size"),
        (_classic_tiff([(256, 5, 1, 99), (322, 3, 1, 256), (324, 4, 1, 200), (325, 4, 1, 10)]), "field type"),
        (_classic_tiff([(256, 3, 0, 0), (322, 3, 1, 256), (324, 4, 1, 200), (325, 4, 1, 10)]), "no value"),
        (_classic_tiff([(256, 9, 1, 2**32 - 5), (322, 3, 1, 256), (324, 4, 1, 200), (325, 4, 1, 10)]), "negative"),
    ],
    ids=["ifd-loop", "ifd-outside", "too-many-entries", "bigtiff-header", "no-size", "float-width", "empty", "neg"],
)
def test_damaged_tiff_structures_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "damaged.tif"
    path.write_bytes(content)
    with pytest.raises(RawTileError, match=message):
        RawTileIndex.build(path)


@pytest.mark.unit
def test_a_minimal_tiled_tiff_is_indexed(tmp_path: Path) -> None:
    path = tmp_path / "minimal.tif"
    entries = [(256, 3, 1, 512), (257, 4, 1, 256), (259, 3, 1, 7), (262, 3, 1, 2), (277, 3, 1, 3)]
    entries += [(258, 3, 1, 8), (322, 3, 1, 256), (323, 3, 1, 256), (324, 4, 2, 100), (325, 4, 2, 8)]
    path.write_bytes(_classic_tiff(entries))
    index = RawTileIndex.build(path)
    (level,) = index.levels
    assert (level.width, level.height, level.tiles_across, level.tiles_down) == (512, 256, 2, 1)
    assert level.passthrough_capable
    assert len(level.offsets) == len(level.byte_counts) == 2
    # The two-value arrays are read from offsets 100 and 8 of this tiny file: nonsense, refused before any read.
    with pytest.raises(RawTileError, match="invalid byte range"):
        index.read(RawTileRef(level, 1, 0))


@pytest.mark.unit
def test_nowait_reads_report_what_would_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 4)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert raw_tiles._pread_nowait(fd, 16, 256) == bytes(range(16))

        def unsupported(*args: object) -> int:
            raise OSError(95, "not supported")

        monkeypatch.setattr(os, "preadv", unsupported)
        with pytest.raises(BlockingIOError):
            raw_tiles._pread_nowait(fd, 16, 0)
        monkeypatch.setattr(os, "preadv", lambda *args: 3)  # only part of it is cached
        with pytest.raises(BlockingIOError):
            raw_tiles._pread_nowait(fd, 16, 0)
        monkeypatch.delattr(os, "RWF_NOWAIT")
        with pytest.raises(BlockingIOError):
            raw_tiles._pread_nowait(fd, 16, 0)
    finally:
        os.close(fd)
