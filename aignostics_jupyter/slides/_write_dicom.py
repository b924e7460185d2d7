"""DICOM VL Whole Slide Microscopy writer (pydicom only): one instance per level, TILED_FULL, JPEG baseline.

The instances share Study, Series, FrameOfReference and Pyramid UIDs, so OpenSlide (through libdicom) and our
own reader open the whole series from any one of its files.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import JPEGBaseline8Bit, generate_uid

from aignostics_jupyter.slides._pyramid import PyramidSpec, padded_tiles

DICOM_WSI_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.77.1.6"
_UNDEFINED_LENGTH = 0xFFFFFFFF
_BOT_LIMIT = 2**32  # the Basic Offset Table holds 32-bit offsets; beyond, the Extended Offset Table is used


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


class DicomSeriesWriter:
    """Writes the instances of one slide's DICOM series into a directory.

    Args:
        directory: Target directory (must exist).
        base_width: Width of the base level in pixels.
        base_height: Height of the base level in pixels.
        mpp: Microns per pixel of the base level.
        objective_power: Objective lens power recorded in the optical path.
    """

    def __init__(self, directory: Path, base_width: int, base_height: int, mpp: float, objective_power: float) -> None:
        self.directory = directory
        self.base_width = base_width
        self.base_height = base_height
        self.mpp = mpp
        self.objective_power = objective_power
        self.study_uid = generate_uid()
        self.series_uid = generate_uid()
        self.frame_of_reference_uid = generate_uid()
        self.pyramid_uid = generate_uid()
        self.instance_number = 0
        now = dt.datetime.now(dt.UTC)
        self.date = now.strftime("%Y%m%d")
        self.time = now.strftime("%H%M%S")

    def _dataset(self, image_type: list[str], l_size: tuple[int, int], tile: tuple[int, int], frames: int) -> Dataset:
        """The attributes every instance of the series carries (``l_size`` and ``tile`` are width, height)."""
        (l_w, l_h), (cols, rows) = l_size, tile
        self.instance_number += 1
        ds = Dataset()
        ds.SOPClassUID = DICOM_WSI_SOP_CLASS
        ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID = self.study_uid
        ds.SeriesInstanceUID = self.series_uid
        ds.FrameOfReferenceUID = self.frame_of_reference_uid
        ds.PyramidUID = self.pyramid_uid
        ds.Modality = "SM"
        ds.PatientName = "Generated^Slide"
        ds.PatientID = "GENERATED"
        ds.PatientBirthDate = ""
        ds.PatientSex = ""
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = self.date
        ds.StudyTime = ds.SeriesTime = ds.ContentTime = self.time
        ds.AcquisitionDateTime = self.date + self.time
        ds.AccessionNumber = ""
        ds.ReferringPhysicianName = ""
        ds.StudyID = "1"
        ds.SeriesNumber = 1
        ds.InstanceNumber = self.instance_number
        ds.Manufacturer = "aignostics-jupyter"
        ds.ManufacturerModelName = "slide writer"
        ds.DeviceSerialNumber = "0"
        ds.SoftwareVersions = "1"
        ds.ImageType = image_type
        ds.ContainerIdentifier = "GENERATED"
        ds.IssuerOfTheContainerIdentifierSequence = DicomSequence([])
        ds.ContainerTypeCodeSequence = DicomSequence([_code("433466003", "SCT", "Microscope slide")])
        specimen = Dataset()
        specimen.SpecimenIdentifier = "GENERATED"
        specimen.SpecimenUID = generate_uid()
        specimen.IssuerOfTheSpecimenIdentifierSequence = DicomSequence([])
        specimen.SpecimenPreparationSequence = DicomSequence([])
        ds.SpecimenDescriptionSequence = DicomSequence([specimen])
        ds.VolumetricProperties = "VOLUME"
        ds.BurnedInAnnotation = "YES" if image_type[2] == "LABEL" else "NO"
        ds.SpecimenLabelInImage = "YES" if image_type[2] in ("LABEL", "OVERVIEW") else "NO"
        ds.FocusMethod = "AUTO"
        ds.ExtendedDepthOfField = "NO"
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionMethod = "ISO_10918_1"
        ds.LossyImageCompressionRatio = 10
        # Slide geometry: the image's real extent in mm and where it sits on the slide.
        mm_per_px_x = self.mpp / 1000 * self.base_width / l_w
        mm_per_px_y = self.mpp / 1000 * self.base_height / l_h
        ds.ImagedVolumeWidth = self.base_width * self.mpp / 1000
        ds.ImagedVolumeHeight = self.base_height * self.mpp / 1000
        ds.ImagedVolumeDepth = 0.001
        origin = Dataset()
        origin.XOffsetInSlideCoordinateSystem = 20.0
        origin.YOffsetInSlideCoordinateSystem = 40.0
        ds.TotalPixelMatrixOriginSequence = DicomSequence([origin])
        ds.ImageOrientationSlide = [0, -1, 0, -1, 0, 0]
        ds.TotalPixelMatrixColumns = l_w
        ds.TotalPixelMatrixRows = l_h
        ds.TotalPixelMatrixFocalPlanes = 1
        ds.Rows = rows
        ds.Columns = cols
        ds.NumberOfFrames = frames
        ds.DimensionOrganizationType = "TILED_FULL"
        ds.NumberOfFocalPlanes = 1
        ds.NumberOfOpticalPaths = 1
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "YBR_FULL_422"
        ds.PlanarConfiguration = 0
        ds.BitsAllocated = 8
        ds.BitsStored = 8
        ds.HighBit = 7
        ds.PixelRepresentation = 0
        measures = Dataset()
        measures.PixelSpacing = [f"{mm_per_px_y:.10g}", f"{mm_per_px_x:.10g}"]  # row spacing, column spacing
        measures.SliceThickness = 0.001
        frame_type = Dataset()
        frame_type.FrameType = image_type
        path_id = Dataset()
        path_id.OpticalPathIdentifier = "1"
        shared = Dataset()
        shared.PixelMeasuresSequence = DicomSequence([measures])
        shared.WholeSlideMicroscopyImageFrameTypeSequence = DicomSequence([frame_type])
        shared.OpticalPathIdentificationSequence = DicomSequence([path_id])
        ds.SharedFunctionalGroupsSequence = DicomSequence([shared])
        optical = Dataset()
        optical.OpticalPathIdentifier = "1"
        optical.IlluminationTypeCodeSequence = DicomSequence([_code("111744", "DCM", "Brightfield illumination")])
        optical.IlluminationColorCodeSequence = DicomSequence([_code("414298005", "SCT", "Full Spectrum")])
        optical.ObjectiveLensPower = f"{self.objective_power:g}"
        ds.OpticalPathSequence = DicomSequence([optical])
        return ds

    def _save(self, ds: Dataset, name: str, frames: Iterable[bytes]) -> Path:
        """Write the instance: header by pydicom, then the encapsulated frames streamed from a spool file.

        Frames are spooled to disk first, so their offsets are known before the header (and the Basic, or for
        more than 4 GiB the Extended, Offset Table) is written, and no level is ever held in memory whole.
        """
        target = self.directory / name
        spool_path = target.with_name(target.name + ".frames.tmp")
        lengths: list[int] = []
        try:
            with spool_path.open("w+b") as spool:
                for frame in frames:
                    padded = frame + b"\x00" if len(frame) % 2 else frame  # items have even length
                    spool.write(padded)
                    lengths.append(len(padded))
                if len(lengths) != int(ds.NumberOfFrames):
                    msg = f"{len(lengths)} frames were rendered for {ds.NumberOfFrames} tiles."
                    raise ValueError(msg)
                item_offsets = [0]
                for length in lengths[:-1]:
                    item_offsets.append(item_offsets[-1] + 8 + length)
                large = item_offsets[-1] + 8 + lengths[-1] >= _BOT_LIMIT
                if large:
                    ds.ExtendedOffsetTable = struct.pack(f"<{len(lengths)}Q", *item_offsets)
                    ds.ExtendedOffsetTableLengths = struct.pack(f"<{len(lengths)}Q", *lengths)
                meta = FileMetaDataset()
                meta.MediaStorageSOPClassUID = ds.SOPClassUID
                meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                meta.TransferSyntaxUID = JPEGBaseline8Bit
                ds.file_meta = meta
                ds.save_as(target, enforce_file_format=True)
                spool.seek(0)
                with target.open("ab") as out:
                    out.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OB", 0, _UNDEFINED_LENGTH))
                    table = b"" if large else struct.pack(f"<{len(item_offsets)}I", *item_offsets)
                    out.write(struct.pack("<HHI", 0xFFFE, 0xE000, len(table)) + table)
                    for length in lengths:
                        out.write(struct.pack("<HHI", 0xFFFE, 0xE000, length))
                        out.write(spool.read(length))
                    out.write(struct.pack("<HHI", 0xFFFE, 0xE0DD, 0))
        finally:
            spool_path.unlink(missing_ok=True)
        return target

    def write_volume(
        self, name: str, l_w: int, l_h: int, tile_size: int, frames: Iterable[bytes], *, original: bool
    ) -> Path:
        """Write one pyramid level as a tiled VOLUME instance from its JPEG tiles in row-major order."""
        count = -(-l_w // tile_size) * -(-l_h // tile_size)
        kind = ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"] if original else ["DERIVED", "PRIMARY", "VOLUME", "RESAMPLED"]
        ds = self._dataset(kind, (l_w, l_h), (tile_size, tile_size), count)
        return self._save(ds, name, frames)

    def write_single(self, name: str, kind: str, jpeg: bytes, shape: tuple[int, ...]) -> Path:
        """Write a one-frame LABEL or OVERVIEW instance."""
        height, width = shape[0], shape[1]
        ds = self._dataset(["ORIGINAL", "PRIMARY", kind, "NONE"], (width, height), (width, height), 1)
        return self._save(ds, name, [jpeg])


def _jpeg(pixels: NDArray[np.uint8], quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(out, "JPEG", quality=quality, subsampling="4:2:0")
    return out.getvalue()


def write_dicom_series(directory: Path, spec: PyramidSpec) -> None:
    """Write one VL Whole Slide Microscopy instance per level (and LABEL/OVERVIEW instances) into a directory."""
    directory.mkdir(parents=True, exist_ok=True)
    series = DicomSeriesWriter(directory, spec.width, spec.height, spec.mpp, spec.objective_power)
    for index, (_, l_w, l_h) in enumerate(spec.levels):
        frames = (_jpeg(tile, spec.quality) for tile in padded_tiles(spec, index))
        series.write_volume(f"level-{index}.dcm", l_w, l_h, spec.tile_size, frames, original=index == 0)
    if spec.label is not None:
        series.write_single("label.dcm", "LABEL", _jpeg(spec.label, spec.quality), spec.label.shape)
    if spec.macro is not None:
        series.write_single("overview.dcm", "OVERVIEW", _jpeg(spec.macro, spec.quality), spec.macro.shape)
