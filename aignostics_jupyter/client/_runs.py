"""Runs (``/v1/runs…``): list with filters and tag/note search, get, create, cancel, metadata, items, artifacts.

Creating a run is not idempotent and is never retried blindly. When the answer to ``POST /v1/runs`` is lost
(the connection dropped after the request went out, or a 5xx), the run is looked up by its first item's
external id and this client's submission id before anything is sent again, so one call creates exactly one run.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from uuid import UUID

import httpx

from aignostics_jupyter.client._artifacts import Artifacts
from aignostics_jupyter.client._http import ApiCore, decode_json
from aignostics_jupyter.client._items import Items, put_custom_metadata
from aignostics_jupyter.client._pagination import Pages
from aignostics_jupyter.client._retry import call_with_retries
from aignostics_jupyter.client._sdk_metadata import NONCE_KEY, note_query, run_matches, tags_query
from aignostics_jupyter.client.models import (
    ItemResultReadResponse,
    RunCreationRequest,
    RunCreationResponse,
    RunReadResponse,
)
from aignostics_jupyter.exceptions import AignosticsError, NotFoundError, ServerError, TransportError

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from aignostics_jupyter.client._run import Progress, Run

__all__ = ["Runs"]

logger = logging.getLogger("aignostics_jupyter.client")


def _seg(value: object) -> str:
    return quote(str(value), safe="")


class _AnswerLostError(AignosticsError):
    """The create request may have reached the platform but its answer did not come back."""

    def __init__(self, cause: AignosticsError) -> None:
        super().__init__(cause.message, status_code=cause.status_code, detail=cause.detail)
        self.cause = cause


def _never_sent(exc: TransportError) -> bool:
    return isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


class Runs:
    """Runs of the caller (and runs shared with them).

    Example:
        >>> for run in client.runs.list(application_id="he-tme", tags={"cohort-1"}):  # doctest: +SKIP
        ...     print(run.run_id, run.state, run.statistics.item_succeeded_count)
    """

    def __init__(
        self,
        core: ApiCore,
        run_factory: Callable[[str, RunReadResponse | None], Run],
        submitter: Callable[..., Run],
    ) -> None:
        self._core = core
        self._run_factory = run_factory
        self._submitter = submitter
        self._items = Items(core)
        self._artifacts = Artifacts(core)

    # ------------------------------------------------------------------------------------------- read

    def list(
        self,
        *,
        application_id: str | None = None,
        application_version: str | None = None,
        external_id: str | None = None,
        custom_metadata: str | None = None,
        submitted_by: str | None = None,
        organization_id: str | None = None,
        for_organization: str | None = None,
        sort: str | Iterable[str] | None = "-submitted_at",
        tags: Iterable[str] | None = None,
        note: str | None = None,
        note_case_insensitive: bool = True,
        limit: int | None = None,
        page_size: int = 100,
        nocache: bool = False,
    ) -> Pages[RunReadResponse]:
        """List runs lazily, newest first by default.

        Args:
            application_id: Only runs of this application.
            application_version: Only runs of this version number.
            external_id: Only runs with an item of this external id.
            custom_metadata: A PostgreSQL JSONPath filter on the run's custom metadata.
            submitted_by: A user id, or ``"me"``.
            organization_id: An organization id, or ``"my_org"``.
            for_organization: All runs of an organization (admins).
            sort: Sort fields, ``-`` for descending.
            tags: Only runs carrying all of these SDK tags.
            note: Only runs whose SDK note matches this regular expression.
            note_case_insensitive: Match the note ignoring case.
            limit: Stop after this many runs.
            page_size: Runs per request (5..100).
            nocache: Bypass the read cache.
        """
        tag_set = set(tags) if tags is not None else None
        server_query = custom_metadata
        if server_query is None and tag_set:
            server_query = tags_query(tag_set)
        elif server_query is None and note is not None:
            server_query = note_query(note, case_insensitive=note_case_insensitive)
        params: dict[str, Any] = {
            "application_id": application_id,
            "application_version": application_version,
            "external_id": external_id,
            "custom_metadata": server_query,
            "submitted_by": submitted_by,
            "organization_id": organization_id,
            "for_organization": for_organization,
            "sort": [sort] if isinstance(sort, str) else (builtins.list(sort) if sort is not None else None),
        }

        def fetch(page: int, size: int) -> builtins.list[Any]:
            data = self._core.get_json(
                "/runs", family="run", params={**params, "page": page, "page_size": size}, nocache=nocache
            )
            return builtins.list(data or [])

        keep = None
        if tag_set or note is not None:

            def keep(run: RunReadResponse) -> bool:
                return run_matches(run, tags=tag_set, note=note, case_insensitive=note_case_insensitive)

        return Pages(fetch, RunReadResponse.model_validate, page_size=page_size, limit=limit, keep=keep)

    def get(self, run_id: str | UUID, *, share_token: str | None = None, nocache: bool = False) -> RunReadResponse:
        """Return a run's state, output and statistics."""
        data = self._core.get_json(
            f"/runs/{_seg(run_id)}", family="run", params={"share_token": share_token}, nocache=nocache
        )
        return RunReadResponse.model_validate(data)

    def run(self, run_id: str | UUID) -> Run:
        """Return a :class:`Run` handle (nothing is fetched yet)."""
        return self._run_factory(str(run_id), None)

    def items(self, run_id: str | UUID, **filters: Any) -> Pages[ItemResultReadResponse]:
        """List a run's items lazily; filters: ``item_ids``, ``external_ids``, ``state``, ``termination_reason``,
        ``custom_metadata``, ``sort``, ``page_size``, ``share_token``, ``nocache``.
        """  # noqa: D205
        return self._items.list(run_id, **filters)

    def item(
        self, run_id: str | UUID, external_id: str, *, share_token: str | None = None, nocache: bool = False
    ) -> ItemResultReadResponse:
        """Return one item of a run by its external id."""
        return self._items.get(run_id, external_id, share_token=share_token, nocache=nocache)

    def artifact_url(self, run_id: str | UUID, artifact_id: str | UUID, *, share_token: str | None = None) -> str:
        """Return a fresh presigned download URL of an output artifact (use it at once)."""
        return self._artifacts.url(run_id, artifact_id, share_token=share_token)

    @property
    def artifacts(self) -> Artifacts:
        """The artifact operations (URLs, verified downloads, deletion)."""
        return self._artifacts

    # ---------------------------------------------------------------------------------------- mutate

    def submit(
        self,
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
        """Describe, validate, upload and submit slides; return the new run.

        Every slide is validated against the version's input schema before anything is uploaded.

        Args:
            application_id: e.g. ``"he-tme"``.
            slides: Local paths, globs and directories; keys of the organization bucket; ``gs://`` or
                ``http(s)`` URLs.
            version: The version number (default: the latest).
            metadata: Input metadata for every slide, e.g. ``{"staining_method": "H&E", "specimen": {...}}``.
            slide_metadata: Input metadata per slide, keyed by the slide as given, its path or file name.
            custom_metadata: The run's custom metadata (the SDK's ``sdk`` block is added).
            tags: Searchable tags (``custom_metadata.sdk.tags``).
            note: A searchable note (``custom_metadata.sdk.note``).
            due_date: Soft completion target.
            deadline: Hard deadline.
            callback_context: Opaque correlation data (at most 1 KB).
            upload_prefix: Key prefix in the bucket (default ``aignostics-jupyter/{user id}``).
            on_progress: Called with :class:`Progress` while describing, uploading and submitting.
            max_workers: Parallel uploads.

        Example:
            >>> run = client.runs.submit("he-tme", "slides/*.svs", metadata={"staining_method": "H&E",
            ...     "specimen": {"tissue": "LUNG", "disease": "LUNG_CANCER"}}, tags={"cohort-1"})  # doctest: +SKIP
        """
        return self._submitter(
            application_id,
            slides,
            version=version,
            metadata=metadata,
            slide_metadata=slide_metadata,
            custom_metadata=custom_metadata,
            tags=tags,
            note=note,
            due_date=due_date,
            deadline=deadline,
            callback_context=callback_context,
            upload_prefix=upload_prefix,
            on_progress=on_progress,
            max_workers=max_workers,
        )

    def create(self, request: RunCreationRequest) -> Run:
        """Send ``POST /v1/runs`` once and return the new run; never submit the same request twice.

        A connection that could not be opened (nothing was sent) is retried. When the request went out but
        its answer was lost (dropped connection, timeout, 5xx), the run is looked up by its first item's
        external id and this request's submission id, a few times to allow for replica lag; if it is not
        found the error is raised, since sending again could create (and bill) a second run.

        Raises:
            TransportError: The answer was lost and no run was found (the platform may still create it).
            ServerError: The platform failed and no run was found.
        """
        body = request.model_dump(mode="json", exclude_none=True)
        nonce = ((request.custom_metadata or {}).get(NONCE_KEY) or {}).get("submission_id")
        # Only a connection that never opened is retried, so the read policy's attempts are safe here.
        attempts = self._core.policy("run").attempts

        def post() -> httpx.Response:
            try:
                return self._core.request("POST", "/runs", family="run_submit", json=body)
            except TransportError as exc:
                if _never_sent(exc):
                    raise
                raise _AnswerLostError(exc) from exc
            except ServerError as exc:
                raise _AnswerLostError(exc) from exc

        try:
            response = call_with_retries(
                post,
                attempts=attempts,
                wait_min=self._core.settings.retry_wait_min,
                wait_max=self._core.settings.retry_wait_max,
                sleep=self._core.sleep,
                what="POST /runs (connect)",
            )
        except _AnswerLostError as lost:
            found = self._find_submitted(request, nonce) if nonce else None
            if found is None:
                cause = lost.cause
                msg = (
                    f"{cause.message}; no run was found for {request.items[0].external_id!r}, but the platform may "
                    f"still create it: check client.runs.list(external_id=...) before submitting again"
                )
                raise type(cause)(msg, status_code=cause.status_code, detail=cause.detail) from lost
            logger.warning("The answer to POST /runs was lost; found the run %s it created", found)
            return self._run_factory(found, None)
        finally:
            self._core.mutated()
        data = decode_json(response, "POST /runs")
        return self._run_factory(str(RunCreationResponse.model_validate(data).run_id), None)

    def _find_submitted(self, request: RunCreationRequest, nonce: str) -> str | None:
        """Look for the run this client created with ``nonce`` (after its creation answer was lost)."""
        external_id = request.items[0].external_id
        policy = self._core.policy("run")
        settings = self._core.settings

        def lookup() -> str | None:
            runs = self.list(application_id=request.application_id, external_id=external_id, nocache=True, limit=200)
            for run in runs:
                meta = (run.custom_metadata or {}).get(NONCE_KEY) or {}
                if meta.get("submission_id") == nonce:
                    return str(run.run_id)
            return None

        for attempt in range(max(1, policy.attempts)):
            if attempt:
                self._core.sleep(min(settings.retry_wait_max, settings.retry_wait_min * 2**attempt))
            try:
                found = call_with_retries(
                    lookup,
                    attempts=policy.attempts,
                    wait_min=settings.retry_wait_min,
                    wait_max=settings.retry_wait_max,
                    sleep=self._core.sleep,
                    what="GET /runs?external_id=",
                )
            except NotFoundError:
                found = None
            if found is not None:
                return found
        return None

    def cancel(self, run_id: str | UUID) -> None:
        """Cancel a run that has not terminated (409 when it already was)."""
        try:
            self._core.request("POST", f"/runs/{_seg(run_id)}/cancel", family="run_cancel")
        finally:
            self._core.mutated()

    def delete_artifacts(self, run_id: str | UUID) -> None:
        """Delete every output artifact of a terminated run now."""
        self._artifacts.delete(run_id)

    def update_metadata(
        self, run_id: str | UUID, custom_metadata: Mapping[str, Any] | None, *, checksum: str | None = None
    ) -> str | None:
        """Replace a run's custom metadata; with ``checksum`` it fails (412) if someone changed it first.

        Returns:
            The new checksum.
        """
        return put_custom_metadata(self._core, f"/runs/{_seg(run_id)}/custom-metadata", custom_metadata, checksum)

    def update_item_metadata(
        self,
        run_id: str | UUID,
        external_id: str,
        custom_metadata: Mapping[str, Any] | None,
        *,
        checksum: str | None = None,
    ) -> str | None:
        """Replace an item's custom metadata (see :meth:`update_metadata`)."""
        return self._items.update_metadata(run_id, external_id, custom_metadata, checksum=checksum)
