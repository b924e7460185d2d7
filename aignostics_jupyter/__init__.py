"""aignostics-jupyter: the Aignostics Platform in JupyterLab.

A notebook user logs in, browses applications, submits whole slide images, watches runs, downloads results and
inspects slides with the model's outputs overlaid, without leaving JupyterLab. The package holds a kernel-side
library (client, storage, slides, widgets, ``%aignostics`` magics), a Jupyter server extension (REST API and tile
server) and a prebuilt JupyterLab extension (the sidebar), plus a local platform that emulates the platform API.

Example:
    >>> import aignostics_jupyter
    >>> aignostics_jupyter.__version__  # doctest: +SKIP
    '0.1.0'

Heavy modules are imported lazily: ``import aignostics_jupyter`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from aignostics_jupyter._jupyter import (
    _jupyter_labextension_paths,
    _jupyter_server_extension_points,
    _load_jupyter_server_extension,
    load_ipython_extension,
    unload_ipython_extension,
)
from aignostics_jupyter._version import __version__
from aignostics_jupyter.exceptions import (
    AignosticsError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    GoneError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RetryableError,
    ServerError,
    TransportError,
    UnsupportedSlideError,
)

if TYPE_CHECKING:
    from aignostics_jupyter.settings import Settings, get_settings

__all__ = [
    "AignosticsError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "GoneError",
    "IntegrityError",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RetryableError",
    "ServerError",
    "Settings",
    "TransportError",
    "UnsupportedSlideError",
    "__version__",
    "_jupyter_labextension_paths",
    "_jupyter_server_extension_points",
    "_load_jupyter_server_extension",
    "get_settings",
    "load_ipython_extension",
    "unload_ipython_extension",
]

# Public names that live in modules too heavy to import eagerly: name -> module.
_LAZY: dict[str, str] = {
    "Settings": "aignostics_jupyter.settings",
    "get_settings": "aignostics_jupyter.settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'aignostics_jupyter' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
