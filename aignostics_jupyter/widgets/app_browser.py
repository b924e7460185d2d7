"""``ApplicationBrowser``: applications, their regulatory classes and versions, and each version's contract.

Per version: the changelog, the input artifacts with their metadata schemas as readable tables (fields, types,
enums, bounds), and the output artifacts.

Example:
    >>> from aignostics_jupyter.widgets.app_browser import ApplicationBrowser
    >>> browser = ApplicationBrowser(application_id="he-tme")  # doctest: +SKIP
    >>> browser.version_picker.value = "1.0.0-beta.8"  # shows that version  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as w
import traitlets

from aignostics_jupyter.client import semver_key
from aignostics_jupyter.widgets._platform import error_text, platform_client
from aignostics_jupyter.widgets._platform_html import WARN_ICON, esc, html_table, utc_text
from aignostics_jupyter.widgets._platform_schema import schema_table_html

if TYPE_CHECKING:
    from aignostics_jupyter.client import Client
    from aignostics_jupyter.client.models import ApplicationReadResponse, VersionReadResponse

__all__ = ["ApplicationBrowser", "version_html"]


def version_html(version: VersionReadResponse) -> str:
    """Render one version: changelog, inputs with their schemas, outputs."""
    parts = [
        f"<h4>Version {esc(version.version_number)}</h4>",
        f"<p><small>released {utc_text(version.released_at)}</small></p>",
        "<h5>Changelog</h5>",
        f'<pre class="aignostics-changelog" style="white-space:pre-wrap">{esc(version.changelog.strip())}</pre>',
        "<h5>Input artifacts</h5>",
    ]
    for artifact in version.input_artifacts:
        parts.append(f"<p><b>{esc(artifact.name)}</b> <code>{esc(artifact.mime_type)}</code></p>")
        parts.append(schema_table_html(artifact.metadata_schema))
    parts.append("<h5>Output artifacts</h5>")
    rows = [(a.name, a.mime_type, a.scope.value, a.visibility.value) for a in version.output_artifacts]
    parts.append(html_table(["name", "media type", "scope", "visibility"], rows))
    return "".join(parts)


class ApplicationBrowser(w.VBox):  # type: ignore[misc]
    """Browse applications and their versions.

    Args:
        client: The client (default: the kernel's shared client).
        application_id: The application to show first (default: the first one).
        version: The version to show first (default: the latest).

    Attributes:
        application: The application shown (with every version number).
        version: The version shown (its contract).
        message: The latest error, or empty.
    """

    message = traitlets.Unicode("")

    def __init__(
        self, client: Client | None = None, *, application_id: str | None = None, version: str | None = None
    ) -> None:
        self.client = client or platform_client()
        self.application: ApplicationReadResponse | None = None
        self.version: VersionReadResponse | None = None
        self.app_picker = w.Dropdown(description="Application", layout=w.Layout(width="32em"))
        self.version_picker = w.Dropdown(description="Version", layout=w.Layout(width="20em"))
        self.summary = w.HTML()
        self.details = w.HTML()
        self.status = w.HTML()
        super().__init__([w.HBox([self.app_picker, self.version_picker]), self.status, self.summary, self.details])
        self.add_class("aignostics-app-browser")
        self._wanted_version = version.removeprefix("v") if version else None
        try:
            apps = list(self.client.applications.list())
        except Exception as exc:
            self._fail(exc)
            return
        self.app_picker.options = [(f"{a.name} ({a.application_id})", a.application_id) for a in apps]
        self.app_picker.observe(self._on_app, names="value")
        self.version_picker.observe(self._on_version, names="value")
        ids = [a.application_id for a in apps]
        if application_id is not None and application_id in ids:
            self.app_picker.value = application_id
        elif application_id is not None:
            self._fail(RuntimeError(f"No application {application_id!r}"))
        elif ids:
            self.app_picker.value = ids[0]
        if self.app_picker.value is not None and self.application is None:
            self._on_app({"new": self.app_picker.value})

    def _fail(self, exc: BaseException) -> None:
        self.message = error_text(exc)
        self.status.value = f'<span style="color:#dc3545">{WARN_ICON} {esc(self.message)}</span>'

    def _on_app(self, change: dict[str, Any]) -> None:
        application_id = change["new"]
        if application_id is None:
            return
        try:
            self.application = self.client.applications.get(application_id)
        except Exception as exc:
            self._fail(exc)
            return
        app = self.application
        numbers = sorted((v.number for v in app.versions), key=semver_key, reverse=True)
        classes = ", ".join(app.regulatory_classes) or "none"
        self.summary.value = (
            f"<h3>{esc(app.name)}</h3><p>{esc(app.description)}</p>"
            f"<p><b>Regulatory classes:</b> {esc(classes)} · <b>Versions:</b> {esc(', '.join(numbers))}</p>"
        )
        wanted = self._wanted_version if self._wanted_version in numbers else (numbers[0] if numbers else None)
        self._wanted_version = None
        self.version_picker.unobserve(self._on_version, names="value")
        self.version_picker.options = numbers
        self.version_picker.value = wanted
        self.version_picker.observe(self._on_version, names="value")
        self._on_version({"new": wanted})

    def _on_version(self, change: dict[str, Any]) -> None:
        number = change["new"]
        if number is None or self.application is None:
            self.details.value = "<p><em>No version available to you.</em></p>"
            return
        try:
            self.version = self.client.applications.version(self.application.application_id, number)
        except Exception as exc:
            self._fail(exc)
            return
        self.message = ""
        self.status.value = ""
        self.details.value = version_html(self.version)
