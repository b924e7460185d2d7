"""Users and organizations of the local platform, seeded on first start.

Seeded identities (stable ids, usable in tests and demos):

=========================  ==========================  =======  ===========================================
user id                     organization               role     notes
=========================  ==========================  =======  ===========================================
``auth0|local-admin``       ``org_local``              admin    the default user (auto-approve logs in as it)
``auth0|local-member``      ``org_local``              member
``auth0|partner-admin``     ``org_partner``            admin    a second org that only has ``test-app``
=========================  ==========================  =======  ===========================================
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from aignostics_jupyter.emulator.db import Database, Row

__all__ = [
    "ADMIN_USER_ID",
    "INTERNAL_BUCKET",
    "MEMBER_USER_ID",
    "PARTNER_ORG_ID",
    "PARTNER_USER_ID",
    "PRIMARY_ORG_ID",
    "Organization",
    "Principal",
    "get_org",
    "get_principal",
    "org_for_bucket",
    "seed_identities",
]

PRIMARY_ORG_ID = "org_local"
PARTNER_ORG_ID = "org_partner"
ADMIN_USER_ID = "auth0|local-admin"
MEMBER_USER_ID = "auth0|local-member"
PARTNER_USER_ID = "auth0|partner-admin"
#: The platform-internal area (output artifacts, version documents); never exposed to organizations.
INTERNAL_BUCKET = "aignostics-platform-internal"


@dataclass(frozen=True)
class Principal:
    """An authenticated user, as the API sees it."""

    user_id: str
    org_id: str
    role: str
    email: str | None = None
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    nickname: str | None = None

    @property
    def is_admin(self) -> bool:
        """Org admins (and super admins) see and manage all of their organization's runs."""
        return self.role in ("admin", "super_admin")


@dataclass(frozen=True)
class Organization:
    """An organization and its bucket credentials."""

    org_id: str
    name: str | None
    display_name: str | None
    bucket_name: str
    hmac_key_id: str
    hmac_secret: str
    applications: tuple[str, ...] | None  # None: every application

    def can_use(self, application_id: str) -> bool:
        """Whether an application is assigned to this organization."""
        return self.applications is None or application_id in self.applications


def _now() -> str:
    return datetime.now(UTC).isoformat()


def seed_identities(db: Database) -> None:
    """Create the default organizations and users, once (keys are random per data dir)."""
    orgs = [
        (PRIMARY_ORG_ID, "local", "Local Organization", "aignostics-local-org-local", None),
        (PARTNER_ORG_ID, "partner", "Partner Organization", "aignostics-local-org-partner", json.dumps(["test-app"])),
    ]
    users = [
        (ADMIN_USER_ID, PRIMARY_ORG_ID, "admin@local.aignostics", "Local Admin", "Local", "Admin", "admin", "admin"),
        (MEMBER_USER_ID, PRIMARY_ORG_ID, "member@local.aignostics", "Local Member", "Local", "Member", "member",
         "member"),
        (PARTNER_USER_ID, PARTNER_ORG_ID, "admin@partner.aignostics", "Partner Admin", "Partner", "Admin",
         "partner", "admin"),
    ]  # fmt: skip
    with db.transaction() as conn:
        for org_id, name, display, bucket, apps in orgs:
            conn.execute(
                "INSERT OR IGNORE INTO orgs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (org_id, name, display, bucket, f"LPK{secrets.token_hex(10).upper()}", secrets.token_urlsafe(30),
                 apps),
            )  # fmt: skip
        for user_id, org_id, email, full, given, family, nick, role in users:
            conn.execute(
                "INSERT OR IGNORE INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, org_id, email, full, given, family, nick, role, _now()),
            )
        if db.get_value("internal_key_id") is None:
            conn.execute("INSERT INTO kv VALUES ('internal_key_id', ?)", (f"LPI{secrets.token_hex(10).upper()}",))
            conn.execute("INSERT INTO kv VALUES ('internal_secret', ?)", (secrets.token_urlsafe(30),))


def _org(row: Row) -> Organization:
    apps = row["applications"]
    return Organization(
        org_id=row["org_id"],
        name=row["name"],
        display_name=row["display_name"],
        bucket_name=row["bucket_name"],
        hmac_key_id=row["hmac_key_id"],
        hmac_secret=row["hmac_secret"],
        applications=None if apps is None else tuple(json.loads(apps)),
    )


def get_org(db: Database, org_id: str) -> Organization | None:
    """Look an organization up by id."""
    row = db.one("SELECT * FROM orgs WHERE org_id = ?", (org_id,))
    return None if row is None else _org(row)


def org_for_bucket(db: Database, bucket: str) -> Organization | None:
    """The organization owning a bucket."""
    row = db.one("SELECT * FROM orgs WHERE bucket_name = ?", (bucket,))
    return None if row is None else _org(row)


def get_principal(db: Database, user_id: str | None = None, *, email: str | None = None) -> Principal | None:
    """Look a user up by id (or e-mail)."""
    if email is not None:
        row = db.one("SELECT * FROM users WHERE email = ?", (email,))
    else:
        row = db.one("SELECT * FROM users WHERE user_id = ?", (user_id,))
    if row is None:
        return None
    return Principal(
        user_id=row["user_id"],
        org_id=row["org_id"],
        role=row["role"],
        email=row["email"],
        name=row["name"],
        given_name=row["given_name"],
        family_name=row["family_name"],
        nickname=row["nickname"],
    )
