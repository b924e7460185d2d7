"""A small fake platform behind ``httpx.MockTransport``, and a transport that injects faults.

The fake speaks enough of API v1, the identity provider and the local storage protocol for unit tests of the
client: it mints real RS256 tokens, serves a JWKS, pages lists, keeps runs and items in memory, answers the
artifact ``/file`` endpoint with 307 and verifies signed storage URLs with :mod:`aignostics_jupyter.storage.signing`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from aignostics_jupyter.checksums import crc32c_bytes
from aignostics_jupyter.settings import LOCAL_AUDIENCE, Settings
from aignostics_jupyter.storage.signing import SignatureError, verify

API_ROOT = "http://127.0.0.1:8999"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "fake-key-1"

APP_VERSION = {
    "version_number": "0.0.6",
    "changelog": "first",
    "released_at": "2025-09-01T09:00:00Z",
    "input_artifacts": [
        {
            "name": "whole_slide_image",
            "mime_type": "image/tiff",
            "metadata_schema": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "required": ["checksum_base64_crc32c", "resolution_mpp", "width_px", "height_px", "tissue"],
                "properties": {
                    "checksum_base64_crc32c": {"type": "string"},
                    "resolution_mpp": {"type": "number", "maximum": 0.6},
                    "width_px": {"type": "integer"},
                    "height_px": {"type": "integer"},
                    "media_type": {"type": "string"},
                    "tissue": {"type": "string", "enum": ["LUNG", "LIVER"]},
                },
            },
        }
    ],
    "output_artifacts": [
        {
            "name": "readout:slide_readouts",
            "mime_type": "text/csv",
            "metadata_schema": {},
            "scope": "ITEM",
            "visibility": "EXTERNAL",
        }
    ],
}


def settings_for(tmp_cache: Any, **overrides: Any) -> Settings:
    """Settings pointing at the fake platform, with fast retries."""
    values: dict[str, Any] = {
        "api_root": API_ROOT,
        "cache_dir": tmp_cache,
        "retry_wait_min": 0.001,
        "retry_wait_max": 0.002,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class FakePlatform:
    """In-memory platform. ``clock`` is shared with the client under test."""

    clock: Callable[[], float] = time.time
    page_size_limit: int = 100
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    objects: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    refresh_tokens: set[str] = field(default_factory=lambda: {"valid-refresh-token-0001"})
    device_answers: list[str] = field(default_factory=list)
    apps: int = 3
    bucket: str = "org-bucket"
    key_id: str = "AKIDFAKE"
    secret: str = "fake-secret-value"
    rotate_refresh: bool = False
    used_refresh_tokens: set[str] = field(default_factory=set)
    corrupt_files: bool = False

    # ---------------------------------------------------------------------------------------- tokens

    def mint(
        self,
        *,
        sub: str = "auth0|user-1",
        lifetime: float = 3600,
        audience: str = LOCAL_AUDIENCE,
        issuer: str = API_ROOT + "/",
        key: Any = None,
    ) -> str:
        now = int(self.clock())
        claims = {"sub": sub, "aud": audience, "iss": issuer, "iat": now, "exp": int(now + lifetime), "org_id": "org_1"}
        return jwt.encode(claims, key or _KEY, algorithm="RS256", headers={"kid": KID})

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_KEY.public_key()))
        jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def _authorized(self, request: httpx.Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return False
        try:
            jwt.decode(
                header[7:],
                _KEY.public_key(),
                algorithms=["RS256"],
                audience=LOCAL_AUDIENCE,
                options={"verify_exp": False},
            )
        except jwt.PyJWTError:
            return False
        return True

    # ----------------------------------------------------------------------------------------- state

    def add_run(
        self,
        n_items: int = 1,
        *,
        state: str = "PENDING",
        custom_metadata: Any = None,
        external_ids: list[str] | None = None,
    ) -> str:
        run_id = str(uuid.uuid4())
        self.runs[run_id] = {
            "run_id": run_id,
            "application_id": "test-app",
            "version_number": "0.0.6",
            "state": state,
            "output": "NONE",
            "termination_reason": None,
            "error_code": None,
            "error_message": None,
            "statistics": self._stats([]),
            "custom_metadata": custom_metadata,
            "custom_metadata_checksum": "00000001" if custom_metadata is not None else None,
            "submitted_at": "2025-01-01T00:00:00Z",
            "submitted_by": "auth0|user-1",
        }
        ids = external_ids or [f"/slides/slide-{i}.tiff" for i in range(n_items)]
        self.items[run_id] = [
            {
                "item_id": str(uuid.uuid4()),
                "external_id": ext,
                "custom_metadata": None,
                "state": "PENDING",
                "output": "NONE",
                "input_artifacts": [],
                "output_artifacts": [],
            }
            for ext in ids
        ]
        self._refresh_stats(run_id)
        return run_id

    def finish_item(self, run_id: str, index: int, content: bytes = b"a,b\n1,2\n", *, bad_crc: bool = False) -> str:
        item = self.items[run_id][index]
        artifact_id = str(uuid.uuid4())
        self.files[artifact_id] = content
        crc = crc32c_bytes(content if not bad_crc else content + b"x")
        item.update(state="TERMINATED", output="FULL", termination_reason="SUCCEEDED")
        item["output_artifacts"] = [
            {
                "output_artifact_id": artifact_id,
                "name": "readout:slide_readouts",
                "metadata": {"checksum_base64_crc32c": crc, "media_type": "text/csv"},
                "state": "TERMINATED",
                "termination_reason": "SUCCEEDED",
                "output": "AVAILABLE",
            }
        ]
        self._refresh_stats(run_id)
        return artifact_id

    def _stats(self, items: list[dict[str, Any]]) -> dict[str, int]:
        def count(**kv: str) -> int:
            return sum(all(i.get(k) == v for k, v in kv.items()) for i in items)

        return {
            "item_count": len(items),
            "item_pending_count": count(state="PENDING"),
            "item_processing_count": count(state="PROCESSING"),
            "item_user_error_count": count(termination_reason="USER_ERROR"),
            "item_system_error_count": count(termination_reason="SYSTEM_ERROR"),
            "item_skipped_count": count(termination_reason="SKIPPED"),
            "item_succeeded_count": count(termination_reason="SUCCEEDED"),
        }

    def _refresh_stats(self, run_id: str) -> None:
        items = self.items[run_id]
        run = self.runs[run_id]
        run["statistics"] = self._stats(items)
        if items and all(i["state"] == "TERMINATED" for i in items) and run["state"] != "TERMINATED":
            run.update(state="TERMINATED", termination_reason="ALL_ITEMS_PROCESSED", output="FULL")

    # --------------------------------------------------------------------------------------- routing

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = urlsplit(str(request.url))
        path = unquote(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        if path == "/oauth/token":
            return self._token(dict(parse_qs(request.content.decode())))
        if path == "/oauth/device/code":
            return httpx.Response(
                200,
                json={
                    "device_code": "dev-code-secret",
                    "user_code": "ABCD-EFGH",
                    "verification_uri": f"{API_ROOT}/activate",
                    "verification_uri_complete": f"{API_ROOT}/activate?user_code=ABCD-EFGH",
                    "expires_in": 600,
                    "interval": 5,
                },
            )
        if path == "/.well-known/jwks.json":
            return httpx.Response(200, json=self.jwks())
        if path.startswith("/storage/"):
            return self._storage(request, path, query)
        if path.startswith("/files/"):
            data = self.files[path.rsplit("/", 1)[1]]
            return httpx.Response(200, content=data + (b"!" if self.corrupt_files else b""))
        if path == "/api/v1/health":
            return httpx.Response(200, json={"status": "UP"})
        if not path.startswith("/api/v1/"):
            return httpx.Response(404, json={"detail": "Not Found"})
        if not self._authorized(request):
            return httpx.Response(401, json={"detail": "Not authenticated"})
        return self._api(request, path[len("/api/v1") :], query)

    def _token(self, form: dict[str, list[str]]) -> httpx.Response:
        grant = form.get("grant_type", [""])[0]
        if grant == "refresh_token":
            token = form.get("refresh_token", [""])[0]
            if token in self.used_refresh_tokens:  # a replay: revoke the whole family, as rotating IdPs do
                self.refresh_tokens.clear()
            if token not in self.refresh_tokens:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "unknown token"})
            body: dict[str, Any] = {"access_token": self.mint(), "expires_in": 3600, "token_type": "Bearer"}
            if self.rotate_refresh:
                self.refresh_tokens.discard(token)
                self.used_refresh_tokens.add(token)
                new = f"rotated-{uuid.uuid4().hex}"
                self.refresh_tokens.add(new)
                body["refresh_token"] = new
            return httpx.Response(200, json=body)
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            answer = self.device_answers.pop(0) if self.device_answers else "ok"
            if answer != "ok":
                return httpx.Response(400, json={"error": answer})
            return httpx.Response(
                200, json={"access_token": self.mint(), "refresh_token": "device-refresh-token-1", "expires_in": 3600}
            )
        return httpx.Response(400, json={"error": "unsupported_grant_type"})

    def _page(self, entries: list[Any], query: dict[str, list[str]], size_key: str = "page_size") -> httpx.Response:
        page = int(query.get("page", ["1"])[0])
        size = int(query.get(size_key, ["50"])[0])
        if not 5 <= size <= self.page_size_limit:
            return httpx.Response(422, json={"detail": [{"loc": ["query", size_key], "msg": "bad size", "type": "x"}]})
        start = (page - 1) * size
        return httpx.Response(200, json=entries[start : start + size])

    def _api(self, request: httpx.Request, path: str, query: dict[str, list[str]]) -> httpx.Response:
        method = request.method
        if path == "/me":
            return httpx.Response(
                200,
                json={
                    "user": {"id": "auth0|user-1", "email": "u@example.org"},
                    "organization": {
                        "id": "org_1",
                        "name": "org",
                        "aignostics_bucket_hmac_access_key_id": self.key_id,
                        "aignostics_bucket_hmac_secret_access_key": self.secret,
                        "aignostics_bucket_name": self.bucket,
                        "aignostics_bucket_protocol": "http",
                        "aignostics_logfire_token": "lf",
                        "aignostics_sentry_dsn": "https://dsn",
                    },
                },
            )
        if path == "/applications":
            apps = [
                {
                    "application_id": f"app-{i}",
                    "name": f"App {i}",
                    "regulatory_classes": ["RUO"],
                    "description": "d",
                    "latest_version": {"number": "0.0.6", "released_at": "2025-09-01T09:00:00Z"},
                }
                for i in range(self.apps)
            ]
            return self._page(apps, query, "page-size")
        match = re.fullmatch(r"/applications/([^/]+)", path)
        if match:
            return httpx.Response(
                200,
                json={
                    "application_id": match[1],
                    "name": "A",
                    "regulatory_classes": [],
                    "description": "d",
                    "versions": [
                        {"number": "0.0.5", "released_at": "2025-01-01T00:00:00Z"},
                        {"number": "0.0.6", "released_at": "2025-09-01T09:00:00Z"},
                        {"number": "0.0.6-rc.1", "released_at": "2025-08-01T09:00:00Z"},
                    ],
                },
            )
        if re.fullmatch(r"/applications/[^/]+/versions/[^/]+", path):
            return httpx.Response(200, json=APP_VERSION)
        if path == "/runs" and method == "GET":
            runs = list(self.runs.values())
            if "external_id" in query:
                runs = [
                    r for r in runs if any(i["external_id"] == query["external_id"][0] for i in self.items[r["run_id"]])
                ]
            return self._page(runs, query)
        if path == "/runs" and method == "POST":
            body = json.loads(request.content)
            run_id = self.add_run(
                custom_metadata=body.get("custom_metadata"), external_ids=[i["external_id"] for i in body["items"]]
            )
            return httpx.Response(201, json={"run_id": run_id})
        match = re.fullmatch(r"/runs/([^/]+)(/.*)?", path)
        if match:
            run_id, rest = match[1], match[2] or ""
            if run_id not in self.runs:
                return httpx.Response(404, json={"detail": "run not found"})
            return self._run(request, run_id, rest, query)
        return httpx.Response(404, json={"detail": "Not Found"})

    def _run(self, request: httpx.Request, run_id: str, rest: str, query: dict[str, list[str]]) -> httpx.Response:
        run = self.runs[run_id]
        if rest == "" and request.method == "GET":
            return httpx.Response(200, json=run)
        if rest == "/cancel" and request.method == "POST":
            if run["state"] == "TERMINATED":
                return httpx.Response(409, json={"detail": "run already terminated"})
            run.update(state="TERMINATED", termination_reason="CANCELED_BY_USER")
            return httpx.Response(202, json={})
        if rest == "/items":
            items = self.items[run_id]
            if "external_id__in" in query:
                items = [i for i in items if i["external_id"] in query["external_id__in"]]
            return self._page(items, query)
        if rest == "/custom-metadata" and request.method == "PUT":
            body = json.loads(request.content)
            given = body.get("custom_metadata_checksum")
            if given is not None and given != run["custom_metadata_checksum"]:
                return httpx.Response(412, json={"detail": "checksum mismatch"})
            run["custom_metadata"] = body.get("custom_metadata")
            run["custom_metadata_checksum"] = f"{int(run['custom_metadata_checksum'] or '0', 16) + 1:08x}"
            return httpx.Response(200, json={"custom_metadata_checksum": run["custom_metadata_checksum"]})
        match = re.fullmatch(r"/artifacts/([^/]+)/file", rest)
        if match:
            if match[1] not in self.files:
                return httpx.Response(410, json={"detail": "artifact deleted"})
            return httpx.Response(307, headers={"location": f"{API_ROOT}/files/{match[1]}"})
        if rest == "/artifacts" and request.method == "DELETE":
            for item in self.items[run_id]:
                for artifact in item["output_artifacts"]:
                    self.files.pop(artifact["output_artifact_id"], None)
                    artifact["output"] = "DELETED_BY_USER"
            return httpx.Response(200, json={})
        return httpx.Response(404, json={"detail": "Not Found"})

    def _storage(self, request: httpx.Request, path: str, query: dict[str, list[str]]) -> httpx.Response:
        parts = path[len("/storage/") :].split("/", 1)
        bucket, key = parts[0], parts[1] if len(parts) > 1 else None
        params = {k: v[0] for k, v in query.items()}
        method = "LIST" if key is None else request.method
        try:
            verify(
                params,
                method=method,
                bucket=bucket,
                key=key if key is not None else params.get("prefix", ""),
                secrets={self.key_id: self.secret},
                now=self.clock(),
            )
        except SignatureError as exc:
            return httpx.Response(403, json={"detail": str(exc)})
        if key is None:
            prefix = params.get("prefix", "")
            return httpx.Response(
                200,
                json=[
                    {"key": k, "size": len(v), "last_modified": "2025-01-01T00:00:00Z", "crc32c": crc32c_bytes(v)}
                    for k, v in sorted(self.objects.items())
                    if k.startswith(prefix)
                ],
            )
        if request.method == "PUT":
            data = request.read()
            declared = request.headers.get("x-aig-crc32c")
            if declared and declared != crc32c_bytes(data):
                return httpx.Response(400, json={"detail": "checksum mismatch"})
            self.objects[key] = data
            return httpx.Response(200, json={"key": key, "size": len(data), "crc32c": crc32c_bytes(data)})
        if key not in self.objects:
            return httpx.Response(404, json={"detail": "no such object"})
        if request.method == "DELETE":
            del self.objects[key]
            return httpx.Response(204)
        data = self.objects[key]
        match = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
        if match:
            start = int(match[1])
            if start >= len(data):
                return httpx.Response(416)
            return httpx.Response(206, content=data[start:], headers={"content-range": f"bytes {start}-/{len(data)}"})
        return httpx.Response(200, content=data)


class FaultyTransport(httpx.BaseTransport):
    """Wraps a transport; ``faults`` is consumed one per matching request.

    A fault is an int (answer with that status), ``"timeout"``, ``"connect"`` (refused before sending) or
    ``"drop"`` (the request reaches the platform but the answer is lost).
    """

    def __init__(
        self, inner: httpx.BaseTransport, faults: list[int | str], match: Callable[[httpx.Request], bool]
    ) -> None:
        self.inner = inner
        self.faults = list(faults)
        self.match = match
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.match(request) and self.faults:
            self.calls += 1
            fault = self.faults.pop(0)
            if fault == "timeout":
                raise httpx.ReadTimeout("timed out", request=request)
            if fault == "connect":
                raise httpx.ConnectError("connection refused", request=request)
            if fault == "drop":
                self.inner.handle_request(request)
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            return httpx.Response(int(fault), json={"detail": f"injected {fault}"})
        return self.inner.handle_request(request)
