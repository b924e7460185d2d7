"""Submitting slides: describe, validate against the version's input schema, upload, sign, create the run.

Nothing is uploaded before every item has passed validation. Slides may be local files, globs and
directories (described and uploaded to the organization bucket), ``gs://``/``s3://`` URLs or keys of the
organization bucket (signed for 7 days), or ``http(s)`` URLs the platform can fetch as they are. Metadata the
client cannot measure (tissue, disease, staining, or everything for remote slides) comes from ``metadata``
(for every slide) and ``slide_metadata`` (per slide).
"""

from __future__ import annotations

import base64
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from aignostics_jupyter.client._http import USER_AGENT
from aignostics_jupyter.client._run import Progress, Run
from aignostics_jupyter.client._sdk_metadata import NONCE_KEY, item_sdk_metadata, run_sdk_metadata
from aignostics_jupyter.client._slides import SlideDescription, describe_slide, find_slides
from aignostics_jupyter.client.models import (
    InputArtifact,
    InputArtifactCreationRequest,
    ItemCreationRequest,
    RunCreationRequest,
    SchedulingRequest,
)
from aignostics_jupyter.exceptions import InvalidInputError, UnsupportedSlideError
from aignostics_jupyter.storage import SEVEN_DAYS

if TYPE_CHECKING:
    from aignostics_jupyter.client._client import Client
    from aignostics_jupyter.storage import Bucket

__all__ = ["build_metadata", "submit", "validate_metadata"]

_GLOB = re.compile(r"[*?\[]")
# Measured values under every key a version's schema may spell them with.
_MEASURED = {
    "checksum_base64_crc32c": "crc32c",
    "checksum_crc32c": "crc32c",
    "width_px": "width",
    "width": "width",
    "height_px": "height",
    "height": "height",
    "resolution_mpp": "mpp",
    "base_mpp": "mpp",
    "mpp": "mpp",
    "media_type": "media_type",
    "media-type": "media_type",
    "mime_type": "media_type",
}
_DEFAULT_KEYS = ("checksum_base64_crc32c", "width_px", "height_px", "resolution_mpp", "media_type")


@dataclass
class _Slide:
    """One slide on its way to becoming an item."""

    spec: str
    external_id: str
    description: SlideDescription | None = None
    url: str | None = None
    bucket_key: str | None = None
    known: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


def _schema_properties(schema: Mapping[str, Any]) -> set[str] | None:
    """Top-level property names of a metadata schema (following one local ``$ref``), or None if open."""
    node: Mapping[str, Any] = schema
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
    props = node.get("properties")
    return set(props) if isinstance(props, Mapping) else None


def build_metadata(
    schema: Mapping[str, Any], description: SlideDescription | None, given: Mapping[str, Any]
) -> dict[str, Any]:
    """Fill a slide's measured metadata under the keys its schema names; what the caller gave wins.

    Example:
        >>> schema = {"properties": {"width_px": {}, "resolution_mpp": {}, "staining_method": {}}}
        >>> d = SlideDescription(path="a.tiff", width=10, height=5, mpp=0.5, media_type="image/tiff",
        ...                      crc32c="AAAAAA==", format="generic-tiff", size=1)
        >>> build_metadata(schema, d, {"staining_method": "H&E"})
        {'width_px': 10, 'resolution_mpp': 0.5, 'staining_method': 'H&E'}
    """
    out: dict[str, Any] = {}
    if description is not None:
        keys = _schema_properties(schema)
        wanted = [k for k in _MEASURED if k in keys] if keys is not None else list(_DEFAULT_KEYS)
        for key in wanted:
            out[key] = getattr(description, _MEASURED[key])
    out.update(given)
    return out


def validate_metadata(schema: Mapping[str, Any], metadata: Mapping[str, Any], slide: str) -> list[str]:
    """Validate one slide's metadata; return one message per problem, each naming the slide and field."""
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator_class.check_schema(dict(schema))
        validator = validator_class(schema)
        errors = sorted(validator.iter_errors(dict(metadata)), key=lambda e: [str(p) for p in e.absolute_path])
    except jsonschema.exceptions.SchemaError as exc:
        return [f"{slide}: the application's metadata schema is invalid ({exc.message})"]
    except Exception as exc:  # unresolvable $refs and the like: the schema comes from the platform
        return [f"{slide}: the application's metadata schema could not be applied ({type(exc).__name__}: {exc})"]
    messages = []
    for error in errors:
        where = ".".join(str(p) for p in error.absolute_path)
        messages.append(f"{slide}: {where}: {error.message}" if where else f"{slide}: {error.message}")
    return messages


def _crc_hex(crc32c: str) -> str:
    return base64.b64decode(crc32c).hex()


def _safe_segment(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "user"


def _resolve(
    slides: str | Path | Iterable[str | Path],
    bucket: Callable[[], Bucket],
    on_progress: Callable[[Progress], None] | None = None,
) -> list[_Slide]:
    specs = [slides] if isinstance(slides, str | Path) else list(slides)
    if not specs:
        raise InvalidInputError("No slides given; pass paths, globs, bucket keys or URLs")
    out: list[_Slide] = []
    local: list[tuple[str, Path]] = []
    for spec in specs:
        text = str(spec)
        if text.startswith(("http://", "https://")):
            out.append(_Slide(text, external_id=text, url=text))
        elif text.startswith(("gs://", "s3://", "local://")):
            name, _, key = text.split("://", 1)[1].partition("/")
            if name != bucket().name:
                raise InvalidInputError(f"{text} is not in your organization bucket {bucket().name}")
            found = bucket().head(key)
            if found is None:
                raise UnsupportedSlideError(f"{text} does not exist in the organization bucket")
            slide = _Slide(text, external_id=text, bucket_key=key)
            slide.known = {"checksum_base64_crc32c": found.crc32c} if found.crc32c else {}
            out.append(slide)
        elif isinstance(spec, Path) or _GLOB.search(text) or Path(text).expanduser().exists():
            for path in find_slides(text):
                local.append((text, path))
                out.append(_Slide(text, external_id=str(path)))
        elif (info := bucket().head(text)) is not None:
            slide = _Slide(text, external_id=bucket().url(text), bucket_key=text)
            if info.crc32c:
                slide.known = {"checksum_base64_crc32c": info.crc32c}
            out.append(slide)
        else:
            raise UnsupportedSlideError(f"{text} does not exist locally or in the organization bucket")
    paths = [p for _, p in local]
    done = [0]
    lock = threading.Lock()

    def describe(path: Path) -> SlideDescription:
        description = describe_slide(path)
        with lock:
            done[0] += 1
            if on_progress is not None:
                on_progress(Progress("describe", str(path), done[0], len(paths)))
        return description

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="aignostics-describe") as pool:
        described = dict(zip(paths, pool.map(describe, paths), strict=True))
    for slide in out:
        if slide.url is None and slide.bucket_key is None:
            slide.description = described[Path(slide.external_id)]
    return out


def submit(
    client: Client,
    application_id: str,
    slides: str | Path | Iterable[str | Path],
    *,
    version: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    slide_metadata: Mapping[str, Mapping[str, Any]] | None = None,
    custom_metadata: Mapping[str, Any] | None = None,
    tags: Iterable[str] | None = None,
    note: str | None = None,
    due_date: datetime | None = None,
    deadline: datetime | None = None,
    callback_context: Mapping[str, Any] | None = None,
    upload_prefix: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    max_workers: int = 4,
) -> Run:
    """Describe, validate, upload and submit slides to an application; return the new :class:`Run`.

    Args:
        client: The client.
        application_id: e.g. ``"he-tme"``.
        slides: Paths, globs, directories, bucket keys, bucket URLs (``gs://``, ``local://``) or ``http(s)`` URLs.
        version: The version number (default: the latest).
        metadata: Input metadata for every slide (e.g. ``{"staining_method": "H&E", "specimen": {...}}``).
        slide_metadata: Input metadata per slide, keyed by the slide as given or by its resolved path/URL.
        custom_metadata: The run's own custom metadata (the ``sdk`` block is added).
        tags: Tags stored in ``custom_metadata.sdk.tags`` (searchable with ``runs.list(tags=...)``).
        note: A note stored in ``custom_metadata.sdk.note``.
        due_date: Soft completion target.
        deadline: Hard deadline (the run is cancelled when it passes).
        callback_context: Opaque correlation data (≤ 1 KB).
        upload_prefix: Key prefix in the bucket (default ``aignostics-jupyter/{user}``).
        on_progress: Called with :class:`Progress` while describing, uploading and submitting.
        max_workers: Parallel uploads.

    Raises:
        InvalidInputError: When any slide fails the version's schema (nothing was uploaded).
        UnsupportedSlideError: When a path does not exist or is not a readable slide.
    """
    contract = client.applications.version(application_id, version)
    if len(contract.input_artifacts) != 1:
        names = ", ".join(a.name for a in contract.input_artifacts)
        msg = f"{application_id} {contract.version_number} needs {len(contract.input_artifacts)} inputs ({names}) "
        raise InvalidInputError(msg + "per item; build the request yourself and call client.runs.create")
    spec: InputArtifact = contract.input_artifacts[0]
    cached: list[Bucket] = []

    def bucket() -> Bucket:
        if not cached:
            cached.append(client.bucket())
        return cached[0]

    resolved = _resolve(slides, bucket, on_progress)
    _fill_and_validate(resolved, spec, metadata or {}, slide_metadata or {})

    now = datetime.fromtimestamp(client.clock(), UTC)
    me = client.me()
    uploads = [s for s in resolved if s.description is not None]
    if uploads:
        prefix = (upload_prefix or f"aignostics-jupyter/{_safe_segment(me.user.id)}").strip("/")
        for slide in uploads:
            assert slide.description is not None
            slide.bucket_key = f"{prefix}/{_crc_hex(slide.description.crc32c)}/{slide.description.path.name}"

        def progress(path: Path, done: int, total: int) -> None:
            if on_progress is not None:
                on_progress(Progress("upload", str(path), done, total))

        bucket().upload_many(
            {s.description.path: s.bucket_key for s in uploads if s.description and s.bucket_key},
            crc32cs={s.description.path: s.description.crc32c for s in uploads if s.description},
            on_progress=progress,
            max_workers=max_workers,
        )

    items = []
    for slide in resolved:
        item_meta: dict[str, Any] = {}
        if slide.bucket_key is not None:
            slide.url = bucket().sign(slide.bucket_key, "GET", SEVEN_DAYS)
            sdk = item_sdk_metadata(
                now=now, bucket_name=bucket().name, object_key=slide.bucket_key, signed_download_url=slide.url
            )
            item_meta = {"sdk": sdk}
        assert slide.url is not None
        artifact = InputArtifactCreationRequest(name=spec.name, download_url=slide.url, metadata=slide.metadata)
        items.append(
            ItemCreationRequest(external_id=slide.external_id, custom_metadata=item_meta, input_artifacts=[artifact])
        )

    run_meta = dict(custom_metadata or {})
    run_meta["sdk"] = run_sdk_metadata(
        now=now, user_agent=USER_AGENT, me=me, tags=tags, note=note, due_date=due_date, deadline=deadline
    )
    run_meta[NONCE_KEY] = {"submission_id": uuid.uuid4().hex}
    scheduling = SchedulingRequest(due_date=due_date, deadline=deadline) if due_date or deadline else None
    request = RunCreationRequest(
        application_id=application_id,
        version_number=contract.version_number,
        custom_metadata=run_meta,
        scheduling=scheduling,
        callback_context=dict(callback_context) if callback_context is not None else None,
        items=items,
    )
    if on_progress is not None:
        on_progress(Progress("submit", application_id, 0, len(items)))
    run = client.runs.create(request)
    if on_progress is not None:
        on_progress(Progress("submit", run.run_id, len(items), len(items)))
    return run


def _fill_and_validate(
    slides: list[_Slide],
    spec: InputArtifact,
    common: Mapping[str, Any],
    per_slide: Mapping[str, Mapping[str, Any]],
) -> None:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for slide in slides:
        given = {**slide.known, **common}
        for key in (slide.spec, slide.external_id, Path(slide.external_id).name):
            given.update(per_slide.get(key, {}))
        if slide.description is not None:
            given.update(per_slide.get(str(slide.description.path), {}))
        slide.metadata = build_metadata(spec.metadata_schema, slide.description, given)
        if len(slide.external_id) > 255:
            problems.append(f"{slide.external_id}: the external id is longer than 255 characters")
        if slide.external_id in seen:
            problems.append(f"{slide.external_id}: given twice")
        seen[slide.external_id] = slide.spec
        problems.extend(validate_metadata(spec.metadata_schema, slide.metadata, slide.external_id))
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise InvalidInputError(f"{len(problems)} problem(s) with the slides, nothing was uploaded: {shown}")
