"""The services one local platform instance is made of, built once and shared by routes and the runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aignostics_jupyter.emulator.blobstore import BlobStore
from aignostics_jupyter.emulator.config import EmulatorConfig
from aignostics_jupyter.emulator.db import Database
from aignostics_jupyter.emulator.identity import INTERNAL_BUCKET, org_for_bucket, seed_identities
from aignostics_jupyter.emulator.tokens import TokenService
from aignostics_jupyter.storage.signing import sign_url

if TYPE_CHECKING:
    from aignostics_jupyter.emulator.runner import Runner

__all__ = ["Services"]


@dataclass
class Services:
    """Configuration, database, token service and buckets of one instance (and its runner, once started)."""

    config: EmulatorConfig
    db: Database
    tokens: TokenService
    blobs: BlobStore
    runner: Runner | None = field(default=None)
    part_endpoint: str | None = field(default=None)  # the part endpoint's URL, while it serves

    @classmethod
    def open(cls, config: EmulatorConfig) -> Services:
        """Open (or create) the data dir: database, keys, buckets, seeded identities and documents."""
        data_dir = config.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(data_dir / "platform.sqlite3")
        seed_identities(db)
        services = cls(
            config=config,
            db=db,
            tokens=TokenService(data_dir / "keys", lifetime=config.token_lifetime),
            blobs=BlobStore(data_dir / "buckets", data_dir / "tmp", db),
        )
        from aignostics_jupyter.emulator.documents import ensure_documents

        ensure_documents(services.blobs)
        return services

    def bucket_secrets(self, bucket: str) -> dict[str, str] | None:
        """The HMAC keys allowed to sign URLs for a bucket (None: no such bucket)."""
        if bucket == INTERNAL_BUCKET:
            key_id = self.db.get_value("internal_key_id")
            secret = self.db.get_value("internal_secret")
            return {key_id: secret} if key_id and secret else None
        org = org_for_bucket(self.db, bucket)
        return None if org is None else {org.hmac_key_id: org.hmac_secret}

    def internal_url(self, base_url: str, key: str, *, extra: dict[str, str] | None = None) -> str:
        """A signed GET URL for an object in the platform-internal area."""
        key_id = self.db.get_value("internal_key_id") or ""
        secret = self.db.get_value("internal_secret") or ""
        url = sign_url(
            f"{base_url}/storage",
            INTERNAL_BUCKET,
            key,
            method="GET",
            access_key_id=key_id,
            secret=secret,
            expires_in=self.config.signed_url_lifetime,
        )
        if extra:
            from urllib.parse import urlencode

            url = f"{url}&{urlencode(extra)}"
        return url

    def close(self) -> None:
        """Close the database."""
        self.db.close()
