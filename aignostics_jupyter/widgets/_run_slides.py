"""Rows of the RunSubmitter: one slide each, measured automatically, with the schema's choices as dropdowns.

A row holds a slide (a local file described on disk, or a bucket key), a thumbnail, its measured values
(size, mpp, CRC32C), one dropdown per user-chosen schema field (tissue, disease, staining, …), and its validity:
a row is valid only when its metadata passes the version's JSON schema.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as w

from aignostics_jupyter.client import SlideDescription, build_metadata, describe_slide, find_slides, validate_metadata
from aignostics_jupyter.widgets._platform import error_text
from aignostics_jupyter.widgets._platform_html import WARN_ICON, esc
from aignostics_jupyter.widgets._platform_schema import SchemaField, choice_fields, const_defaults, set_path

__all__ = ["ScannedSlide", "SlideRow", "scan_bucket", "scan_local", "thumbnail_png"]

_THUMB = 64


@dataclass
class ScannedSlide:
    """A slide found by a scan: where it is, what was measured, or why it cannot be used."""

    spec: str
    name: str
    description: SlideDescription | None = None
    size: int | None = None
    crc32c: str | None = None
    thumbnail: bytes = b""
    problem: str = ""


def thumbnail_png(path: Path, size: int = _THUMB) -> bytes:
    """A small PNG thumbnail of a slide, or empty bytes when it cannot be made."""
    try:
        import openslide

        slide = openslide.OpenSlide(str(path))
        try:
            image = slide.get_thumbnail((size, size)).convert("RGB")
        finally:
            slide.close()
    except Exception:  # a missing thumbnail is not worth an error
        return b""
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def scan_local(spec: str) -> list[ScannedSlide]:
    """Find and describe the slides of a folder, file or glob; a slide that cannot be used carries its problem.

    Raises:
        UnsupportedSlideError: When the folder holds no slides or nothing matches.
    """
    found = []
    for path in find_slides(spec):
        slide = ScannedSlide(spec=str(path), name=path.name, size=path.stat().st_size)
        try:
            slide.description = describe_slide(path)
            slide.crc32c = slide.description.crc32c
        except Exception as exc:
            slide.problem = error_text(exc)
        slide.thumbnail = thumbnail_png(slide.description.path if slide.description else path)
        found.append(slide)
    return found


_SLIDE_SUFFIXES = (".tif", ".tiff", ".svs", ".dcm")


def scan_bucket(objects: list[Any]) -> list[ScannedSlide]:
    """Turn bucket objects (``ObjectInfo``) with slide suffixes into scanned slides (nothing measured)."""
    return [
        ScannedSlide(spec=o.key, name=o.key, size=o.size, crc32c=o.crc32c)
        for o in objects
        if o.key.lower().endswith(_SLIDE_SUFFIXES)
    ]


def _human(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return ""  # pragma: no cover


class SlideRow(w.HBox):  # type: ignore[misc]
    """One slide of the submission table.

    Args:
        slide: The scanned slide.
        on_change: Called when the row's validity may have changed.
    """

    def __init__(self, slide: ScannedSlide, on_change: Callable[[], Any]) -> None:
        self.slide = slide
        self._on_change = on_change
        self.schema: Mapping[str, Any] = {}
        self.fields: list[SchemaField] = []
        self.choices: dict[str, w.Dropdown] = {}
        self.problems: list[str] = []
        self.include = w.Checkbox(value=True, indent=False, layout=w.Layout(width="2em"))
        self.thumbnail = w.Image(value=slide.thumbnail, format="png", width=_THUMB, height=_THUMB)
        d = slide.description
        mpp = f"{d.mpp:.3f} µm/px" if d else ""
        dims = f"{d.width}×{d.height}" if d else ""
        self.info = w.HTML(
            f'<b title="{esc(slide.spec)}">{esc(slide.name)}</b><br><small>{esc(_human(slide.size))} · {dims} · '
            f"{esc(mpp)} · CRC32C {esc(slide.crc32c or '?')}</small>",
            layout=w.Layout(width="26em"),
        )
        self.choice_box = w.VBox(layout=w.Layout(width="17em"))
        self.state = w.HTML(layout=w.Layout(width="18em"))
        self.progress = w.FloatProgress(min=0.0, max=1.0, value=0.0, layout=w.Layout(width="8em", display="none"))
        self.include.observe(lambda _: self._on_change(), names="value")
        super().__init__([self.include, self.thumbnail, self.info, self.choice_box, self.state, self.progress])
        self.add_class("aignostics-slide-row")

    @property
    def included(self) -> bool:
        """Whether the row is part of the submission."""
        return bool(self.include.value)

    def set_schema(self, schema: Mapping[str, Any]) -> None:
        """Show the schema's choice fields as dropdowns (keeping values already picked), then validate."""
        kept = {name: box.value for name, box in self.choices.items()}
        self.schema = schema
        self.fields = choice_fields(schema)
        self.choices = {}
        for field in self.fields:
            options: list[tuple[str, Any]] = [(str(v), v) for v in field.choices]
            if not field.has_const:
                options.insert(0, ("— choose —", None))
            label = field.path[-1].removesuffix("_method")
            box = w.Dropdown(options=options, description=label, layout=w.Layout(width="16em"))
            box.style.description_width = "5em"
            previous = kept.get(field.name)
            box.value = previous if previous in field.choices else (field.const if field.has_const else None)
            box.observe(lambda _: self.validate(), names="value")
            self.choices[field.name] = box
        self.choice_box.children = list(self.choices.values())
        self.validate()

    def set_choice(self, name: str, value: Any) -> bool:
        """Pick a value for a field (dotted name or last segment); False when the row has no such choice."""
        for field in self.fields:
            if name in (field.name, field.path[-1]) and value in field.choices:
                self.choices[field.name].value = value
                return True
        return False

    def given(self) -> dict[str, Any]:
        """The user's choices as nested metadata (consts included)."""
        out = const_defaults(self.schema)
        for field in self.fields:
            value = self.choices[field.name].value
            if value is not None:
                set_path(out, field.path, value)
        return out

    def metadata(self) -> dict[str, Any]:
        """The metadata this slide would be submitted with (measured values plus choices)."""
        return build_metadata(self.schema, self.slide.description, self.given())

    def validate(self) -> bool:
        """Check the row against the schema; show and return whether it is valid."""
        if self.slide.problem:
            self.problems = [self.slide.problem]
        else:
            self.problems = [
                p.split(": ", 1)[-1] for p in validate_metadata(self.schema, self.metadata(), self.slide.name)
            ]
        if self.problems:
            shown = "; ".join(self.problems[:3])
            self.state.value = f'<span class="aignostics-invalid" style="color:#dc3545">{WARN_ICON} {esc(shown)}</span>'
        else:
            self.state.value = (
                '<span class="aignostics-valid" style="color:#198754"><i class="fa fa-check"></i> ready</span>'
            )
        self._on_change()
        return not self.problems

    @property
    def valid(self) -> bool:
        """Whether the row passes the schema."""
        return not self.problems
