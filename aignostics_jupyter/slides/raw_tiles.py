"""Raw JPEG tile passthrough: serve a stored tile of a JPEG-compressed tiled TIFF as it is, without decoding.

When a viewer tile coincides exactly with a stored tile (the zoom maps to a pyramid level of exactly that
downsample, the stored tiles are as large as the viewer's, the tile lies fully inside the level), the tile's
compressed bytes can be sent to the browser unchanged: no decode, no resize, no encode. This module

* parses the IFD structure of a classic or Big TIFF once per file (:class:`RawTileIndex`): for every tiled
  level its size, tile size, compression, photometric interpretation, JPEGTables and the tile offsets and byte
  counts;
* maps a viewer tile to a stored tile (:func:`plan_raw_tile`), or says it does not map;
* reads one tile with a single ``pread`` and makes it a standalone JPEG (:func:`standalone_jpeg`): the level's
  JPEGTables are spliced into an abbreviated stream, and for photometric RGB (Aperio stores RGB without a
  colour transform) an Adobe APP14 marker with transform 0 is inserted, because a 3-component JPEG without it
  or JFIF is decoded as YCbCr by browsers.

Anything unusual (another compression, 12-bit or lossless JPEG, a colour interpretation a browser would get
wrong, a byte range outside the file, a file changed since it was indexed) raises :class:`RawTileError`, and
the caller renders the tile the normal way. Only OpenSlide's ``aperio`` and ``generic-tiff`` vendors are
eligible, whose levels are plain tiled TIFF directories.

Example:
    >>> index = RawTileIndex.build(Path("slide.svs"))  # doctest: +SKIP
    >>> ref = plan_raw_tile(index, ZoomGrid(w, h), level_dimensions, (z, t_x, t_y))  # doctest: +SKIP
    >>> jpeg = index.read(ref) if ref else None  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from aignostics_jupyter.slides.source import FileSignature
from aignostics_jupyter.slides.tiling import ZoomGrid

__all__ = [
    "PASSTHROUGH_VENDORS",
    "RawTileError",
    "RawTileIndex",
    "RawTileRef",
    "TiffLevel",
    "plan_raw_tile",
    "standalone_jpeg",
]

PASSTHROUGH_VENDORS = frozenset({"aperio", "generic-tiff"})
"""OpenSlide vendors whose pyramid levels are plain tiled TIFF directories (eligible for passthrough)."""

_COMPRESSION_JPEG = 7
_PHOTOMETRIC_RGB = 2
_PHOTOMETRIC_YCBCR = 6
_MAX_IFDS = 1024
_MAX_TILES = 1 << 26  # per level: 64M tiles is far beyond any slide; guards against a damaged count
_MAX_TABLES = 1 << 16

# TIFF field type -> numpy dtype character (integers only; other types are not needed here).
_INT_TYPES = {1: "u1", 3: "u2", 4: "u4", 6: "i1", 7: "u1", 8: "i2", 9: "i4", 13: "u4", 16: "u8", 17: "i8", 18: "u8"}
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}

# The tags read: ImageWidth, ImageLength, BitsPerSample, Compression, Photometric, SamplesPerPixel,
# PlanarConfiguration, TileWidth, TileLength, TileOffsets, TileByteCounts, JPEGTables.
_WIDTH, _LENGTH, _BITS, _COMPRESSION, _PHOTOMETRIC, _SAMPLES = 256, 257, 258, 259, 262, 277
_PLANAR, _TILE_WIDTH, _TILE_LENGTH, _TILE_OFFSETS, _TILE_COUNTS, _JPEG_TABLES = 284, 322, 323, 324, 325, 347
_WANTED = frozenset(
    {_WIDTH, _LENGTH, _BITS, _COMPRESSION, _PHOTOMETRIC, _SAMPLES, _PLANAR, _TILE_WIDTH, _TILE_LENGTH}
    | {_TILE_OFFSETS, _TILE_COUNTS, _JPEG_TABLES}
)

# JPEG markers.
_SOI, _EOI, _SOS, _DQT, _DHT, _DRI, _COM = 0xD8, 0xD9, 0xDA, 0xDB, 0xC4, 0xDD, 0xFE
_APP0, _APP14, _APP15 = 0xE0, 0xEE, 0xEF
_SOF_OK = frozenset({0xC0, 0xC1, 0xC2})  # baseline, extended and progressive Huffman: what browsers decode
_SOF_ALL = frozenset(range(0xC0, 0xD0)) - {_DHT, 0xC8, 0xCC}
_ADOBE_RGB = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00"  # APP14, version 100, transform 0 (none)


class RawTileError(ValueError):
    """A stored tile cannot be passed through as it is (the caller renders it instead)."""


@dataclass(frozen=True, eq=False)
class TiffLevel:
    """One tiled image directory of a TIFF.

    Attributes:
        ifd: Index of the directory in the file (0 = first).
        width: Image width in pixels.
        height: Image height in pixels.
        tile_width: Stored tile width.
        tile_height: Stored tile height.
        compression: TIFF Compression (7 = JPEG).
        photometric: TIFF PhotometricInterpretation (2 = RGB, 6 = YCbCr).
        samples: Samples per pixel.
        bits: Bits per sample (the first sample's).
        planar: PlanarConfiguration (1 = chunky).
        jpeg_tables: The JPEGTables stream (``b""`` when absent).
        offsets: File offset of every tile, row-major.
        byte_counts: Compressed size of every tile, row-major.
    """

    ifd: int
    width: int
    height: int
    tile_width: int
    tile_height: int
    compression: int
    photometric: int
    samples: int
    bits: int
    planar: int
    jpeg_tables: bytes
    offsets: NDArray[np.uint64]
    byte_counts: NDArray[np.uint64]

    @property
    def tiles_across(self) -> int:
        """Tile columns."""
        return -(-self.width // self.tile_width)

    @property
    def tiles_down(self) -> int:
        """Tile rows."""
        return -(-self.height // self.tile_height)

    @property
    def passthrough_capable(self) -> bool:
        """Whether tiles of this level can be sent as JPEG (8-bit, 3 samples, chunky, RGB or YCbCr)."""
        return (
            self.compression == _COMPRESSION_JPEG
            and self.photometric in {_PHOTOMETRIC_RGB, _PHOTOMETRIC_YCBCR}
            and self.samples == 3
            and self.bits == 8
            and self.planar == 1
            and len(self.offsets) == len(self.byte_counts) == self.tiles_across * self.tiles_down
        )


@dataclass(frozen=True)
class RawTileRef:
    """A stored tile: the level (a :class:`TiffLevel`) and its column and row."""

    level: TiffLevel
    col: int
    row: int


class _Reader:
    """Reads integers and arrays from an open TIFF in its byte order."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.size = fd, size
        head = os.pread(fd, 16, 0)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            msg = "not a TIFF file"
            raise RawTileError(msg)
        self.order = "<" if head[:2] == b"II" else ">"
        (version,) = struct.unpack(self.order + "H", head[2:4])
        if version == 42:
            self.big = False
            (self.first_ifd,) = struct.unpack(self.order + "I", head[4:8])
        elif version == 43 and len(head) >= 16:
            self.big = True
            offset_size, zero, self.first_ifd = struct.unpack(self.order + "HHQ", head[4:16])
            if offset_size != 8 or zero != 0:
                msg = "unsupported BigTIFF header"
                raise RawTileError(msg)
        else:
            msg = "not a TIFF file"
            raise RawTileError(msg)

    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.size:
            msg = f"a TIFF structure at {offset} (+{length} bytes) lies outside the file ({self.size} bytes)"
            raise RawTileError(msg)
        data = os.pread(self.fd, length, offset)
        if len(data) != length:
            msg = "the TIFF file is shorter than it claims"
            raise RawTileError(msg)
        return data

    def ifd(self, offset: int) -> tuple[dict[int, tuple[int, int, bytes, int]], int]:
        """The wanted entries of the IFD at ``offset`` (tag → type, count, inline bytes, value offset), next IFD."""
        count_fmt, entry_size, off_fmt = ("Q", 20, "Q") if self.big else ("H", 12, "I")
        count_size = struct.calcsize(count_fmt)
        (count,) = struct.unpack(self.order + count_fmt, self.read(offset, count_size))
        if count > 4096:
            msg = f"an IFD claims {count} entries"
            raise RawTileError(msg)
        off_size = struct.calcsize(off_fmt)
        body = self.read(offset + count_size, count * entry_size + off_size)
        entries: dict[int, tuple[int, int, bytes, int]] = {}
        head_fmt = self.order + ("HHQ" if self.big else "HHI")
        inline_size = 8 if self.big else 4
        for i in range(count):
            entry = body[i * entry_size : (i + 1) * entry_size]
            tag, typ, n = struct.unpack(head_fmt, entry[: entry_size - inline_size])
            if tag not in _WANTED or typ not in _TYPE_SIZES:
                continue
            inline = entry[entry_size - inline_size :]
            (value_offset,) = struct.unpack(self.order + off_fmt, inline)
            entries[tag] = (typ, n, inline, value_offset)
        (next_ifd,) = struct.unpack(self.order + off_fmt, body[count * entry_size :])
        return entries, next_ifd

    def values(self, entry: tuple[int, int, bytes, int]) -> NDArray[np.uint64]:
        """The integer values of an entry, as uint64."""
        typ, n, inline, value_offset = entry
        if typ not in _INT_TYPES or n > _MAX_TILES:
            msg = f"unexpected TIFF field type {typ} or count {n}"
            raise RawTileError(msg)
        size = _TYPE_SIZES[typ] * n
        raw = inline[:size] if size <= len(inline) else self.read(value_offset, size)
        values = np.frombuffer(raw, dtype=np.dtype(self.order + _INT_TYPES[typ]), count=n)
        if values.size and values.min() < 0:
            msg = "negative value in a TIFF offset or size field"
            raise RawTileError(msg)
        return values.astype(np.uint64)

    def raw(self, entry: tuple[int, int, bytes, int]) -> bytes:
        typ, n, inline, value_offset = entry
        size = _TYPE_SIZES[typ] * n
        if size > _MAX_TABLES:
            msg = f"JPEGTables of {size} bytes"
            raise RawTileError(msg)
        return inline[:size] if size <= len(inline) else self.read(value_offset, size)


def _scalar(reader: _Reader, entries: dict[int, tuple[int, int, bytes, int]], tag: int, default: int) -> int:
    entry = entries.get(tag)
    if entry is None:
        return default
    values = reader.values(entry)
    if not values.size:
        msg = f"TIFF tag {tag} has no value"
        raise RawTileError(msg)
    return int(values[0])


class RawTileIndex:
    """The tiled levels of one version of a TIFF file, for reading stored tiles directly.

    Build it with :meth:`build` (parses the file once: a few small reads plus the offset and byte count
    arrays, about 16 bytes per tile). Reading a tile (:meth:`read`) reopens the file and checks that its
    signature is still the one indexed, so a changed file is never read with stale offsets.

    Attributes:
        path: The file.
        signature: Its modification time and size when indexed.
        levels: Every tiled directory, in file order.
    """

    def __init__(self, path: Path, signature: FileSignature, levels: Sequence[TiffLevel]) -> None:
        self.path = Path(path)
        self.signature = signature
        self.levels = tuple(levels)

    @classmethod
    def build(cls, path: Path) -> RawTileIndex:
        """Parse the TIFF at ``path``.

        Raises:
            RawTileError: When it is not a (readable) classic or Big TIFF.
            OSError: When it cannot be opened.
        """
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                msg = f"{Path(path).name} is not a regular file"
                raise RawTileError(msg)
            reader = _Reader(fd, st.st_size)
            levels: list[TiffLevel] = []
            seen: set[int] = set()
            offset, number = reader.first_ifd, 0
            while offset and number < _MAX_IFDS:
                if offset in seen:
                    msg = "the TIFF's directories form a loop"
                    raise RawTileError(msg)
                seen.add(offset)
                entries, next_offset = reader.ifd(offset)
                if _TILE_WIDTH in entries and _TILE_OFFSETS in entries and _TILE_COUNTS in entries:
                    levels.append(cls._level(reader, number, entries))
                offset, number = next_offset, number + 1
            return cls(Path(path), FileSignature(st.st_mtime_ns, st.st_size), levels)
        finally:
            os.close(fd)

    @staticmethod
    def _level(reader: _Reader, number: int, entries: dict[int, tuple[int, int, bytes, int]]) -> TiffLevel:
        tables = entries.get(_JPEG_TABLES)
        width, height = _scalar(reader, entries, _WIDTH, 0), _scalar(reader, entries, _LENGTH, 0)
        tile_width, tile_height = _scalar(reader, entries, _TILE_WIDTH, 0), _scalar(reader, entries, _TILE_LENGTH, 0)
        if min(width, height, tile_width, tile_height) < 1:
            msg = f"directory {number} has no valid image or tile size"
            raise RawTileError(msg)
        return TiffLevel(
            ifd=number,
            width=width,
            height=height,
            tile_width=tile_width,
            tile_height=tile_height,
            compression=_scalar(reader, entries, _COMPRESSION, 1),
            photometric=_scalar(reader, entries, _PHOTOMETRIC, -1),
            samples=_scalar(reader, entries, _SAMPLES, 1),
            bits=_scalar(reader, entries, _BITS, 1),
            planar=_scalar(reader, entries, _PLANAR, 1),
            jpeg_tables=reader.raw(tables) if tables is not None else b"",
            offsets=reader.values(entries[_TILE_OFFSETS]),
            byte_counts=reader.values(entries[_TILE_COUNTS]),
        )

    def level_of_size(self, width: int, height: int) -> TiffLevel | None:
        """The one tiled, passthrough-capable level of exactly this size, else None (none, or ambiguous)."""
        matches = [level for level in self.levels if (level.width, level.height) == (width, height)]
        if len(matches) != 1 or not matches[0].passthrough_capable:
            return None
        return matches[0]

    def byte_range(self, ref: RawTileRef) -> tuple[int, int]:
        """``(offset, length)`` of a stored tile in the file, checked against the file size.

        Raises:
            RawTileError: For an empty tile (not scanned), or a range outside the file or implausibly large.
        """
        level = ref.level
        index = ref.row * level.tiles_across + ref.col
        offset, length = int(level.offsets[index]), int(level.byte_counts[index])
        limit = level.tile_width * level.tile_height * level.samples * 2 + 65_536
        if length < 4 or length > limit or offset < 8 or offset + length > self.signature.size:
            msg = (
                f"tile {ref.col},{ref.row} of directory {level.ifd} of {self.path.name} has an invalid byte range "
                f"({length} bytes at {offset}; file size {self.signature.size})"
            )
            raise RawTileError(msg)
        return offset, length

    def read(self, ref: RawTileRef, *, nowait: bool = False) -> bytes:
        """A stored tile as a standalone JPEG (see :func:`standalone_jpeg`), read with one ``pread``.

        Args:
            ref: The tile, from :func:`plan_raw_tile`.
            nowait: Only read what is in the page cache (Linux ``RWF_NOWAIT``), for callers on an event loop:
                raise :class:`BlockingIOError` instead of waiting for the disk (or where the system cannot
                tell), so the caller can retry in a thread.

        Raises:
            RawTileError: When the file changed since it was indexed, the byte range is invalid or the stream
                cannot be served as it is.
            BlockingIOError: With ``nowait``, when the read would wait for the disk.
            OSError: When the file cannot be read.
        """
        offset, length = self.byte_range(ref)
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            if FileSignature(st.st_mtime_ns, st.st_size) != self.signature:
                msg = f"{self.path.name} changed since it was indexed"
                raise RawTileError(msg)
            data = _pread_nowait(fd, length, offset) if nowait else os.pread(fd, length, offset)
        finally:
            os.close(fd)
        if len(data) != length:
            msg = f"{self.path.name} is shorter than its tile offsets claim"
            raise RawTileError(msg)
        return standalone_jpeg(data, ref.level)


def _pread_nowait(fd: int, length: int, offset: int) -> bytes:
    """``pread`` from the page cache only; BlockingIOError when (part of) it would wait, or cannot be known."""
    flag = getattr(os, "RWF_NOWAIT", None)
    if flag is None:
        msg = "RWF_NOWAIT is not available here"
        raise BlockingIOError(errno.EAGAIN, msg)
    buffer = bytearray(length)
    try:
        count = os.preadv(fd, [buffer], offset, flag)
    except BlockingIOError:
        raise
    except OSError as exc:
        if exc.errno in {errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS}:  # the file system cannot say
            raise BlockingIOError(errno.EAGAIN, str(exc)) from exc
        raise
    if count < length:  # only part of it is cached (or the file is shorter: the blocking read will tell)
        msg = "part of the tile is not in the page cache"
        raise BlockingIOError(errno.EAGAIN, msg)
    return bytes(buffer)


def plan_raw_tile(
    index: RawTileIndex,
    grid: ZoomGrid,
    level_dimensions: Sequence[Sequence[int]],
    tile: tuple[int, int, int],
) -> RawTileRef | None:
    """The stored tile that is exactly viewer tile ``z/t_x/t_y``, or None when there is none.

    A viewer tile is a stored tile when its zoom's downsample is a pyramid level's downsample (up to the
    rounding of the level's size to whole pixels), the level's tiles are ``grid.tile_size`` square, and the
    tile is a full tile inside both the slide and the level (edge tiles are padded by the renderer instead).

    Args:
        index: The file's tiled levels.
        grid: The viewer's tile grid.
        level_dimensions: The slide's level sizes as the reader reports them (level 0 first).
        tile: ``(z, t_x, t_y)``: Leaflet zoom, tile column and row.

    Raises:
        TileOutOfRangeError: For a tile outside the grid.
    """
    z, t_x, t_y = tile
    region = grid.tile(z, t_x, t_y)
    downsample = region.downsample
    if region.is_edge or downsample < 1:
        return None
    size = grid.tile_size
    for l_w, l_h in level_dimensions:
        # A level of this downsample is base // downsample (or rounded up) pixels: within one level pixel.
        if abs(l_w * downsample - grid.l0_width) >= downsample or abs(l_h * downsample - grid.l0_height) >= downsample:
            continue
        level = index.level_of_size(l_w, l_h)
        if level is None or (level.tile_width, level.tile_height) != (size, size):
            return None
        if (t_x + 1) * size > l_w or (t_y + 1) * size > l_h:
            return None
        return RawTileRef(level, t_x, t_y)
    return None


def _segments(stream: bytes, start: int) -> list[tuple[int, int, int]]:
    """``(marker, segment start, segment end)`` of the marker segments from ``start`` up to and including SOS.

    Raises:
        RawTileError: For a malformed header.
    """
    found: list[tuple[int, int, int]] = []
    pos, end = start, len(stream)
    while pos < end:
        if stream[pos] != 0xFF:
            msg = "malformed JPEG header"
            raise RawTileError(msg)
        while pos + 1 < end and stream[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        if pos + 4 > end:
            break
        marker = stream[pos + 1]
        length = (stream[pos + 2] << 8) | stream[pos + 3]
        if length < 2 or pos + 2 + length > end:
            msg = "truncated JPEG marker segment"
            raise RawTileError(msg)
        found.append((marker, pos, pos + 2 + length))
        pos += 2 + length
        if marker == _SOS:
            return found
    return found


def standalone_jpeg(tile: bytes, level: TiffLevel) -> bytes:
    """Make a stored JPEG tile a complete JPEG a browser decodes to the right colours.

    * Splices the level's JPEGTables (quantisation and Huffman tables shared by all tiles, stored once as
      ``SOI tables… EOI``) into an abbreviated tile stream, after the tile's SOI and leading APPn segments.
    * Photometric RGB (no colour transform, as Aperio and OpenSlide read it): adds an Adobe APP14 marker with
      transform 0 unless there is one; a stream with JFIF or an Adobe YCbCr transform is ambiguous and refused.
    * Photometric YCbCr: refused when a decoder would take it for RGB (Adobe transform 0, or no JFIF/Adobe
      marker and component ids ``R``, ``G``, ``B``).
    * Refuses streams that are not 8-bit baseline/extended/progressive Huffman JPEG with 3 components of the
      level's tile size, or lack quantisation or Huffman tables.

    Args:
        tile: The tile's bytes as stored.
        level: Its level (tables, photometric interpretation, tile size).

    Returns:
        The JPEG (``tile`` itself when nothing needs changing).

    Raises:
        RawTileError: When the stream cannot be served as it is.
    """
    if tile[:2] != b"\xff\xd8" or tile[-2:] != b"\xff\xd9":
        msg = "the stored tile is not a complete JPEG stream"
        raise RawTileError(msg)
    tables_body = b""
    if level.jpeg_tables:
        tables = level.jpeg_tables
        if tables[:2] != b"\xff\xd8" or tables[-2:] != b"\xff\xd9":
            msg = "malformed JPEGTables"
            raise RawTileError(msg)
        tables_body = tables[2:-2]
        for marker, _, _ in _segments(tables_body, 0):
            if marker not in {_DQT, _DHT, _DRI, _COM} and not _APP0 <= marker <= _APP15:
                msg = f"unexpected marker 0x{marker:02X} in JPEGTables"
                raise RawTileError(msg)
    header = _segments(tile, 2)
    if not header or header[-1][0] != _SOS:
        msg = "the stored tile has no scan"
        raise RawTileError(msg)
    markers = {marker for marker, _, _ in header} | {marker for marker, _, _ in _segments(tables_body, 0)}
    if _DQT not in markers or _DHT not in markers:
        msg = "the stored tile has no quantisation or Huffman tables"
        raise RawTileError(msg)
    jfif, adobe_transform, component_ids = False, None, b""
    for marker, start, end in header:
        body = tile[start + 4 : end]
        if marker == _APP0 and body.startswith(b"JFIF\x00"):
            jfif = True
        elif marker == _APP14 and body.startswith(b"Adobe") and len(body) >= 12:
            adobe_transform = body[11]
        elif marker in _SOF_ALL:
            if marker not in _SOF_OK or len(body) < 15:
                msg = f"JPEG process 0x{marker:02X} is not served as it is"
                raise RawTileError(msg)
            precision, height, width, components = body[0], (body[1] << 8) | body[2], (body[3] << 8) | body[4], body[5]
            if precision != 8 or components != 3 or (width, height) != (level.tile_width, level.tile_height):
                msg = f"a {precision}-bit {components}-component {width}x{height} JPEG is not served as it is"
                raise RawTileError(msg)
            component_ids = bytes(body[6:15:3])
    if not component_ids:
        msg = "the stored tile has no frame header"
        raise RawTileError(msg)
    insert = b""
    if level.photometric == _PHOTOMETRIC_RGB:
        if jfif or adobe_transform not in (None, 0):
            msg = "an RGB tile marked as YCbCr (JFIF or Adobe transform) is ambiguous"
            raise RawTileError(msg)
        if adobe_transform is None:
            insert = _ADOBE_RGB
    elif adobe_transform == 0 or (not jfif and adobe_transform is None and component_ids == b"RGB"):
        msg = "a YCbCr tile that decoders would read as RGB"
        raise RawTileError(msg)
    if not insert and not tables_body:
        return tile
    # After SOI and the leading APPn segments (JFIF must come first), before everything else.
    position = 2
    for marker, _, end in header:
        if not _APP0 <= marker <= _APP15:
            break
        position = end
    return b"".join((tile[:position], insert, tables_body, tile[position:]))
