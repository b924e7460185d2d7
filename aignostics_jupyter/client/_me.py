"""The caller: user, organization and the organization bucket's credentials (``GET /v1/me``)."""

from __future__ import annotations

from aignostics_jupyter.client._http import ApiCore
from aignostics_jupyter.client.models import MeReadResponse

__all__ = ["get_me"]


def get_me(core: ApiCore, *, nocache: bool = False) -> MeReadResponse:
    """Return the calling user and organization (cached for ``AIGNOSTICS_ME_CACHE_TTL`` seconds)."""
    return MeReadResponse.model_validate(core.get_json("/me", family="me", nocache=nocache))
