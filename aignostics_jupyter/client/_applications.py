"""Applications, their versions and the versions' release documents (``/v1/applications…``)."""

from __future__ import annotations

import builtins
import re
from pathlib import Path
from urllib.parse import quote

import httpx

from aignostics_jupyter.client._http import ApiCore, translate_transport_error
from aignostics_jupyter.client._pagination import Pages
from aignostics_jupyter.client.models import (
    ApplicationReadResponse,
    ApplicationReadShortResponse,
    VersionDocumentResponse,
    VersionReadResponse,
)
from aignostics_jupyter.exceptions import AignosticsError, NotFoundError, error_for_status

__all__ = ["Applications", "Documents", "semver_key"]

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Sort key for SemVer 2.0 strings: releases after their pre-releases, numeric identifiers numerically.

    Example:
        >>> sorted(["1.0.0", "1.0.0-beta.8", "0.99.0"], key=semver_key)
        ['0.99.0', '1.0.0-beta.8', '1.0.0']
    """
    match = _SEMVER.match(version)
    if not match:
        return (-1, -1, -1, 0, ())
    major, minor, patch, pre = match.groups()
    pre_key: tuple[tuple[int, int | str], ...] = ()
    if pre:
        pre_key = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre_key)


def _seg(value: str) -> str:
    return quote(str(value), safe="")


class Documents:
    """Release documents of an application version (model cards, output descriptions)."""

    def __init__(self, core: ApiCore) -> None:
        self._core = core

    def _base(self, application_id: str, version: str) -> str:
        return f"/applications/{_seg(application_id)}/versions/{_seg(version)}/documents"

    def list(self, application_id: str, version: str, *, nocache: bool = False) -> list[VersionDocumentResponse]:
        """List the public documents of a version.

        Example:
            >>> [d.name for d in client.applications.documents.list("he-tme", "1.0.0")]  # doctest: +SKIP
            ['model_card.pdf']
        """
        data = self._core.get_json(self._base(application_id, version), family="application_version", nocache=nocache)
        return [VersionDocumentResponse.model_validate(d) for d in data or []]

    def get(self, application_id: str, version: str, name: str, *, nocache: bool = False) -> VersionDocumentResponse:
        """Return the metadata of one document."""
        path = f"{self._base(application_id, version)}/{_seg(name)}"
        return VersionDocumentResponse.model_validate(
            self._core.get_json(path, family="application_version", nocache=nocache)
        )

    def url(self, application_id: str, version: str, name: str, *, content: bool = False) -> str:
        """Return the short-lived signed URL a document's ``/file`` (or ``/content``) endpoint redirects to."""
        kind = "content" if content else "file"
        path = f"{self._base(application_id, version)}/{_seg(name)}/{kind}"
        response = self._core.request("GET", path, family="application_version", retry=True)
        location = response.headers.get("location")
        if response.status_code not in (301, 302, 303, 307, 308) or not location:
            msg = f"Expected a redirect to the document {name!r}, got HTTP {response.status_code}"
            raise AignosticsError(msg, status_code=response.status_code)
        return str(httpx.URL(self._core.url(path)).join(location))

    def read(self, application_id: str, version: str, name: str) -> bytes:
        """Download a document into memory."""
        url = self.url(application_id, version, name, content=True)
        try:
            response = self._core.http.get(url, timeout=self._core.policy("application_version").timeout)
        except httpx.HTTPError as exc:
            raise translate_transport_error(exc, f"Downloading the document {name!r}") from exc
        if response.status_code >= 400:
            raise error_for_status(response.status_code, None, context=f"Downloading the document {name!r}")
        return response.content

    def download(self, application_id: str, version: str, name: str, dest: str | Path) -> Path:
        """Download a document into the directory ``dest`` (created if needed) and return the file's path."""
        folder = Path(dest)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(name).name
        target.write_bytes(self.read(application_id, version, name))
        return target


class Applications:
    """The applications visible to the caller's organization.

    Example:
        >>> for app in client.applications.list():  # doctest: +SKIP
        ...     print(app.application_id, app.latest_version)
    """

    def __init__(self, core: ApiCore) -> None:
        self._core = core
        self.documents = Documents(core)

    def list(
        self, *, sort: str | list[str] | None = None, page_size: int = 50, nocache: bool = False
    ) -> Pages[ApplicationReadShortResponse]:
        """List applications lazily, page by page (``page-size`` as this endpoint spells it)."""

        def fetch(page: int, size: int) -> builtins.list[object]:
            params = {"page": page, "page-size": size, "sort": sort}
            data = self._core.get_json("/applications", family="application", params=params, nocache=nocache)
            return list(data or [])

        return Pages(fetch, ApplicationReadShortResponse.model_validate, page_size=page_size)

    def get(self, application_id: str, *, nocache: bool = False) -> ApplicationReadResponse:
        """Return one application with every version available to the caller."""
        data = self._core.get_json(f"/applications/{_seg(application_id)}", family="application", nocache=nocache)
        return ApplicationReadResponse.model_validate(data)

    def versions(self, application_id: str, *, nocache: bool = False) -> builtins.list[str]:
        """Return the version numbers of an application, newest first (SemVer order)."""
        app = self.get(application_id, nocache=nocache)
        return sorted((v.number for v in app.versions), key=semver_key, reverse=True)

    def latest_version(self, application_id: str, *, nocache: bool = False) -> str:
        """Return the newest version number of an application.

        Raises:
            NotFoundError: When the application has no version available to the caller.
        """
        versions = self.versions(application_id, nocache=nocache)
        if not versions:
            raise NotFoundError(f"The application {application_id!r} has no version available to you")
        return versions[0]

    def version(self, application_id: str, version: str | None = None, *, nocache: bool = False) -> VersionReadResponse:
        """Return a version's contract (input and output artifacts); ``version=None`` means the latest."""
        number = version or self.latest_version(application_id, nocache=nocache)
        number = number.removeprefix("v")
        path = f"/applications/{_seg(application_id)}/versions/{_seg(number)}"
        data = self._core.get_json(path, family="application_version", nocache=nocache)
        return VersionReadResponse.model_validate(data)
