"""The Aignostics Platform API v1 client: typed models, login, retries, cache, pagination, submit, wait, download.

Example:
    >>> from aignostics_jupyter.client import Client
    >>> client = Client()  # doctest: +SKIP
    >>> run = client.runs.submit("he-tme", "slides/*.svs", metadata={"staining_method": "H&E"})  # doctest: +SKIP
    >>> run.wait(); run.download("results")  # doctest: +SKIP

The models (:mod:`aignostics_jupyter.client.models`) are importable on their own and carry no behaviour.
This package never imports tornado, IPython or ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aignostics_jupyter.client._access import Access
    from aignostics_jupyter.client._applications import Applications, Documents, semver_key
    from aignostics_jupyter.client._artifacts import artifact_file_name, item_dir_name, item_dir_names
    from aignostics_jupyter.client._auth import AccessToken, Authenticator, DeviceAuthorization
    from aignostics_jupyter.client._client import Client
    from aignostics_jupyter.client._http import USER_AGENT
    from aignostics_jupyter.client._pagination import Pages
    from aignostics_jupyter.client._run import DownloadResult, Progress, Run, WaitTimeoutError
    from aignostics_jupyter.client._runs import Runs
    from aignostics_jupyter.client._sdk_metadata import note_query, run_matches, tags_query
    from aignostics_jupyter.client._slides import SlideDescription, describe_slide, find_slides
    from aignostics_jupyter.client._submit import build_metadata, validate_metadata
    from aignostics_jupyter.client._token_store import TokenStore

__all__ = [
    "USER_AGENT",
    "Access",
    "AccessToken",
    "Applications",
    "Authenticator",
    "Client",
    "DeviceAuthorization",
    "Documents",
    "DownloadResult",
    "Pages",
    "Progress",
    "Run",
    "Runs",
    "SlideDescription",
    "TokenStore",
    "WaitTimeoutError",
    "artifact_file_name",
    "build_metadata",
    "describe_slide",
    "find_slides",
    "item_dir_name",
    "item_dir_names",
    "note_query",
    "run_matches",
    "semver_key",
    "tags_query",
    "validate_metadata",
]

# Imported on first use so that ``import aignostics_jupyter.client.models`` stays light.
_LAZY: dict[str, str] = {
    "USER_AGENT": "_http",
    "Access": "_access",
    "AccessToken": "_auth",
    "Applications": "_applications",
    "Authenticator": "_auth",
    "Client": "_client",
    "DeviceAuthorization": "_auth",
    "Documents": "_applications",
    "DownloadResult": "_run",
    "Pages": "_pagination",
    "Progress": "_run",
    "Run": "_run",
    "Runs": "_runs",
    "SlideDescription": "_slides",
    "TokenStore": "_token_store",
    "WaitTimeoutError": "_run",
    "artifact_file_name": "_artifacts",
    "build_metadata": "_submit",
    "describe_slide": "_slides",
    "find_slides": "_slides",
    "item_dir_name": "_artifacts",
    "item_dir_names": "_artifacts",
    "note_query": "_sdk_metadata",
    "run_matches": "_sdk_metadata",
    "semver_key": "_applications",
    "tags_query": "_sdk_metadata",
    "validate_metadata": "_submit",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'aignostics_jupyter.client' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"aignostics_jupyter.client.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
