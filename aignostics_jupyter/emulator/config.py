"""The local platform's configuration: where it keeps its data and how it behaves (auth, runner, limits)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aignostics_jupyter.settings import get_settings

__all__ = ["DEFAULT_ANALYSER", "SYNTHETIC_ANALYSER", "EmulatorConfig"]

#: The real local applications (image analysis), run in the worker processes.
DEFAULT_ANALYSER = "aignostics_jupyter.emulator.apps:analyse"
#: A fast stand-in that writes small, valid files for every output artifact (tests, demos without numpy work).
SYNTHETIC_ANALYSER = "aignostics_jupyter.emulator.synthetic:analyse"


class EmulatorConfig(BaseModel):
    """Everything that configures one local platform instance.

    Example:
        >>> from pathlib import Path
        >>> EmulatorConfig(data_dir=Path("/tmp/lp"), auto_approve=True).token_lifetime
        3600
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(description="Where the database, keys, buckets and work files live.")
    public_url: str | None = Field(None, description="The root URL clients use; derived per request when None.")
    auto_approve: bool = Field(False, description="Approve device codes and authorization requests at once.")
    token_lifetime: int = Field(3600, ge=1, description="Access token lifetime in seconds.")
    refresh_token_lifetime: int = Field(30 * 24 * 3600, ge=1)
    device_code_lifetime: int = Field(600, ge=1)
    device_poll_interval: int = Field(5, ge=0, description="RFC 8628 polling interval in seconds.")
    error_threshold: int = Field(10, ge=1, description="Failed items after which a run is canceled by the system.")
    workers: int = Field(1, ge=1, le=8)
    worker_mode: Literal["process", "thread"] = "process"
    analyser: str = Field(DEFAULT_ANALYSER, description="'module:function' of the analysis callable.")
    runner_enabled: bool = True
    scheduler_interval: float = Field(0.2, gt=0)
    part_endpoint: bool = Field(
        True, description="Serve multipart upload parts on a second port of the API's host (see part_endpoint)."
    )
    max_json_body: int = Field(10 * 1024 * 1024, ge=1024)
    signed_url_lifetime: int = Field(3600, ge=1, description="Lifetime of artifact and document download URLs.")
    artifact_retention: float = Field(
        30 * 24 * 3600, gt=0, description="Seconds after a run terminates until its artifacts are deleted."
    )
    upload_retention: float = Field(
        7 * 24 * 3600,
        gt=0,
        description="Seconds an unfinished upload may stay untouched before its staged bytes are deleted.",
    )

    @classmethod
    def from_settings(cls, **overrides: object) -> EmulatorConfig:
        """Build a configuration from the ``AIGNOSTICS_LOCAL_*`` settings, with explicit overrides.

        Args:
            **overrides: Field values that win over the settings.

        Returns:
            The configuration.
        """
        settings = get_settings()
        values: dict[str, object] = {"data_dir": settings.local_data_dir, "auto_approve": settings.local_auto_approve}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
