"""Output artifacts: presigned download URLs (307), verified file downloads, early deletion, file naming.

Files are named as the official SDK names them: ``{dest}/{run_id}/{item_dir}/{artifact_name}{ext}`` where
``item_dir`` is the stem of the item's external id, ``:`` in the artifact name becomes ``_`` and the extension
follows the media type. Every download is checked against the artifact's CRC32C; a mismatching file is deleted
and reported with :class:`~aignostics_jupyter.exceptions.IntegrityError`. A file already present with the
right checksum is skipped, so a download can be resumed by running it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlsplit
from uuid import UUID

import httpx

from aignostics_jupyter.checksums import Crc32c, crc32c_file
from aignostics_jupyter.client._http import ApiCore, translate_transport_error
from aignostics_jupyter.client._retry import call_with_retries
from aignostics_jupyter.client.models import OutputArtifactResultReadResponse
from aignostics_jupyter.exceptions import AignosticsError, IntegrityError, error_for_status

__all__ = [
    "CHUNK_SIZE",
    "EXTENSIONS",
    "Artifacts",
    "artifact_checksum",
    "artifact_file_name",
    "artifact_media_type",
    "item_dir_name",
    "item_dir_names",
]

CHUNK_SIZE = 1024 * 1024

#: File extension by media type, as the official SDK writes result files.
EXTENSIONS: dict[str, str] = {
    "image/tiff": ".tiff",
    "text/csv": ".csv",
    "application/geo+json": ".json",
    "application/json": ".json",
    "application/vnd.apache.parquet": ".parquet",
    "image/png": ".png",
}
_UNSAFE = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")


def _seg(value: object) -> str:
    return quote(str(value), safe="")


def artifact_media_type(artifact: OutputArtifactResultReadResponse, fallback: str | None = None) -> str:
    """Return an artifact's media type from its metadata (``media_type`` or ``mime_type``)."""
    meta = artifact.metadata or {}
    value = meta.get("media_type") or meta.get("mime_type") or meta.get("media-type") or fallback
    return str(value or "application/octet-stream")


def artifact_checksum(artifact: OutputArtifactResultReadResponse) -> str | None:
    """Return an artifact's base64 CRC32C (``checksum_base64_crc32c``, else the older ``checksum_crc32c``)."""
    meta = artifact.metadata or {}
    value = meta.get("checksum_base64_crc32c") or meta.get("checksum_crc32c")
    return str(value) if value else None


def artifact_file_name(name: str, media_type: str) -> str:
    """Return the SDK's file name of an artifact, e.g. ``tissue_qc_geojson_polygons.json``.

    Example:
        >>> artifact_file_name("readout_generation:slide_readouts", "text/csv")
        'readout_generation_slide_readouts.csv'
    """
    base = _UNSAFE.sub("_", name).strip(". ") or "artifact"
    return base + EXTENSIONS.get(media_type.split(";", maxsplit=1)[0].strip().lower(), ".bin")


def item_dir_name(external_id: str) -> str:
    """Return the folder of an item: the stem of its external id (a path or URL), made safe.

    Example:
        >>> item_dir_name("/data/slides/case-1.svs")
        'case-1'
    """
    path = urlsplit(external_id).path if "://" in external_id else external_id
    stem = PurePosixPath(path.replace("\\", "/")).stem or external_id
    return _UNSAFE.sub("_", stem).strip(". ") or "item"


def item_dir_names(external_ids: Iterable[str]) -> dict[str, str]:
    """Return each item's folder; items whose stems collide get a short hash of their external id appended.

    Example:
        >>> item_dir_names(["/a/x.svs", "/b/x.svs", "/c/y.svs"])["/c/y.svs"]
        'y'
    """
    ids = list(dict.fromkeys(external_ids))
    stems = {external_id: item_dir_name(external_id) for external_id in ids}
    counts = Counter(stems.values())
    return {
        external_id: stem if counts[stem] == 1 else f"{stem}_{hashlib.sha256(external_id.encode()).hexdigest()[:8]}"
        for external_id, stem in stems.items()
    }


class Artifacts:
    """Artifact URLs, deletion and verified downloads."""

    def __init__(self, core: ApiCore) -> None:
        self._core = core

    def url(self, run_id: str | UUID, artifact_id: str | UUID, *, share_token: str | None = None) -> str:
        """Resolve a fresh presigned URL of an output artifact (the ``/file`` endpoint's 307 Location).

        Raises:
            GoneError: When the artifact was deleted (410).
            AignosticsError: When the platform answers without a redirect.
        """
        path = f"/runs/{_seg(run_id)}/artifacts/{_seg(artifact_id)}/file"
        response = self._core.request("GET", path, family="run", params={"share_token": share_token}, retry=True)
        location = response.headers.get("location")
        if response.status_code not in (301, 302, 303, 307, 308):
            msg = f"Unexpected status {response.status_code} resolving the artifact {artifact_id}; expected 307"
            raise AignosticsError(msg, status_code=response.status_code)
        if not location:
            raise AignosticsError(f"The redirect for artifact {artifact_id} has no Location header")
        return str(httpx.URL(self._core.url(path)).join(location))

    def delete(self, run_id: str | UUID) -> None:
        """Delete every output artifact of a terminated run now (they expire after 30 days anyway)."""
        try:
            self._core.request("DELETE", f"/runs/{_seg(run_id)}/artifacts", family="run_delete")
        finally:
            self._core.mutated()

    def download(
        self,
        run_id: str | UUID,
        artifact: OutputArtifactResultReadResponse,
        target: Path,
        *,
        share_token: str | None = None,
        on_bytes: Callable[[int, int | None], None] | None = None,
    ) -> bool:
        """Download one artifact to ``target``, verified against its CRC32C.

        Returns:
            True when the file was downloaded, False when a verified copy was already there.

        Raises:
            IntegrityError: The file did not match its checksum (it was deleted).
        """
        expected = artifact_checksum(artifact)
        if target.is_file() and expected and crc32c_file(target) == expected:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        policy = self._core.policy("run")

        def attempt() -> str:
            url = self.url(run_id, artifact.output_artifact_id, share_token=share_token)
            return fetch_to_file(self._core.http, url, target, timeout=policy.timeout, on_bytes=on_bytes)

        actual = call_with_retries(
            attempt,
            attempts=policy.attempts,
            wait_min=self._core.settings.retry_wait_min,
            wait_max=self._core.settings.retry_wait_max,
            sleep=self._core.sleep,
            what=f"download of {artifact.name}",
        )
        if expected and actual != expected:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            msg = f"{target.name} failed its CRC32C check (expected {expected}, got {actual}); the file was deleted"
            raise IntegrityError(msg)
        return True


def fetch_to_file(
    http: httpx.Client,
    url: str,
    target: Path,
    *,
    timeout: float,
    on_bytes: Callable[[int, int | None], None] | None = None,
) -> str:
    """Stream a presigned URL into ``target`` (via a ``.part`` file) and return the data's CRC32C.

    No Authorization header is sent: presigned URLs carry their own signature.
    """
    part = target.with_name(target.name + ".part")
    crc = Crc32c()
    what = "Downloading " + target.name
    try:
        with http.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code >= 400:
                response.read()
                raise error_for_status(response.status_code, _detail(response), context=what)
            total = int(response.headers["content-length"]) if "content-length" in response.headers else None
            done = 0
            with part.open("wb") as stream:
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    stream.write(chunk)
                    crc.update(chunk)
                    done += len(chunk)
                    if on_bytes is not None:
                        on_bytes(done, total)
    except httpx.HTTPError as exc:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise translate_transport_error(exc, what) from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise
    os.replace(part, target)
    return crc.base64()


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or None
    return body.get("detail", body) if isinstance(body, dict) else body
