"""The sidebar's REST handlers under ``{base_url}aignostics-jupyter/api/``: session, runs, applications, bucket.

Each verb parses its input, calls the blocking core (:mod:`api_session`, :mod:`api_runs`, :mod:`api_bucket`,
:mod:`api_downloads`) in the services' executor so the event loop never waits on the platform, and writes
JSON. Every verb is ``@web.authenticated``; errors become JSON in
:class:`~aignostics_jupyter.server.base.BaseHandler`. The surface is documented in
``specification/rest-api.yml``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from tornado import web

from aignostics_jupyter.exceptions import InvalidInputError, NotFoundError
from aignostics_jupyter.server import api_bucket, api_runs
from aignostics_jupyter.server.api_workspace import confine_folder
from aignostics_jupyter.server.base import BaseHandler

__all__ = [
    "ApplicationsHandler",
    "BucketDeleteHandler",
    "BucketDownloadHandler",
    "BucketHandler",
    "BucketSignHandler",
    "BucketUploadHandler",
    "RunCancelHandler",
    "RunDownloadHandler",
    "RunHandler",
    "RunsHandler",
    "SessionHandler",
]

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

#: Where run results go when the request names no folder.
DEFAULT_RESULTS_FOLDER = "aignostics-results"


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate input into a model; failures are :class:`InvalidInputError` (422)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"Invalid request: {problems}") from exc


class PlatformHandler(BaseHandler):
    """Base of the sidebar handlers: runs blocking calls off the event loop."""

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` in the services' executor and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.services.executor, functools.partial(fn, *args, **kwargs))

    def query(self) -> dict[str, str]:
        """The query arguments (first value of each, empty values dropped)."""
        values = {name: self.get_query_argument(name, "") for name in self.request.query_arguments}
        return {name: value for name, value in values.items() if value != ""}


class SessionHandler(PlatformHandler):
    """``api/session``: login state (GET), start a device login (POST), logout (DELETE)."""

    @web.authenticated
    async def get(self) -> None:
        """Answer the login state, with a pending login's code and link."""
        self.write_json(await self.blocking(self.services.session.state))

    @web.authenticated
    async def post(self) -> None:
        """Start a device-flow login; poll GET until ``login.state`` is no longer ``pending``."""
        await self.blocking(self.services.session.start_login)
        self.write_json(await self.blocking(self.services.session.state), status=201)

    @web.authenticated
    async def delete(self) -> None:
        """Log out (the kernel too: the token cache is shared)."""
        await self.blocking(self.services.session.logout)
        self.write_json(await self.blocking(self.services.session.state))


class RunsHandler(PlatformHandler):
    """``GET api/runs?application_id=&state=&tag=&page=&page_size=``: one page of run summaries."""

    @web.authenticated
    async def get(self) -> None:
        """Answer the page."""
        query = parse(api_runs.RunQuery, self.query())
        client = await self.blocking(self.services.session.client)
        self.write_json(await self.blocking(api_runs.list_runs, client, query))


class RunHandler(PlatformHandler):
    """``GET api/runs/{id}``: the run with its items, and its download job if one was started."""

    @web.authenticated
    async def get(self, run_id: str) -> None:
        """Answer the run's details."""
        client = await self.blocking(self.services.session.client)
        details = await self.blocking(api_runs.run_details, client, run_id)
        try:
            details["download"] = self.services.downloads.get(run_id).public()
        except NotFoundError:
            details["download"] = None
        self.write_json(details)


class RunCancelHandler(PlatformHandler):
    """``POST api/runs/{id}/cancel``: cancel a run that has not terminated (409 when it has)."""

    @web.authenticated
    async def post(self, run_id: str) -> None:
        """Cancel, then answer the run's summary."""
        client = await self.blocking(self.services.session.client)
        await self.blocking(client.runs.cancel, run_id)
        run = await self.blocking(client.runs.get, run_id, nocache=True)
        self.write_json(api_runs.run_summary(run))


class RunDownloadHandler(PlatformHandler):
    """``api/runs/{id}/download``: start downloading results into a workspace folder (POST), progress (GET)."""

    @web.authenticated
    async def post(self, run_id: str) -> None:
        """Start the download (202), or answer the running one (200)."""
        body = self.json_body()
        folder = body.get("folder", DEFAULT_RESULTS_FOLDER)
        if not isinstance(folder, str):
            raise InvalidInputError("folder must be a path relative to the server's root directory")
        services = self.services
        base = confine_folder(services.root_dir, folder, allow_hidden=services.allow_hidden)
        client = await self.blocking(services.session.client)
        await self.blocking(client.runs.get, run_id)  # 404 before a job is registered
        job, started = services.downloads.start(client, run_id, base, services.root_dir)
        self.write_json(job.public(), status=202 if started else 200)

    @web.authenticated
    async def get(self, run_id: str) -> None:
        """Answer the progress of the run's latest download (404 when none was started)."""
        self.write_json(self.services.downloads.get(run_id).public())


class ApplicationsHandler(PlatformHandler):
    """``GET api/applications``: the applications the caller may run."""

    @web.authenticated
    async def get(self) -> None:
        """Answer the list."""
        client = await self.blocking(self.services.session.client)
        self.write_json({"applications": await self.blocking(api_runs.list_applications, client)})


class BucketBase(PlatformHandler):
    """Base of the bucket handlers."""

    async def bucket_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``fn(bucket, *args, **kwargs)`` in the executor with the organization bucket."""

        def call() -> T:
            return fn(self.services.session.client().bucket(), *args, **kwargs)

        return await self.blocking(call)


class BucketHandler(BucketBase):
    """``GET api/bucket?prefix=``: objects and folders directly under a prefix."""

    @web.authenticated
    async def get(self) -> None:
        """Answer the listing."""
        prefix = self.get_query_argument("prefix", "")
        self.write_json(await self.bucket_call(api_bucket.browse, prefix))


class BucketUploadHandler(BucketBase):
    """``POST api/bucket/upload`` with ``{"path", "key"?, "prefix"?}``: upload a workspace file."""

    @web.authenticated
    async def post(self) -> None:
        """Upload and answer the object."""
        request = parse(api_bucket.UploadRequest, self.json_body())
        root, hidden = self.services.root_dir, self.services.allow_hidden
        self.write_json(await self.bucket_call(api_bucket.upload, root, request, allow_hidden=hidden), status=201)


class BucketDownloadHandler(BucketBase):
    """``POST api/bucket/download`` with ``{"key", "folder"}``: download an object into the workspace."""

    @web.authenticated
    async def post(self) -> None:
        """Download and answer the workspace path."""
        request = parse(api_bucket.DownloadRequest, self.json_body())
        root, hidden = self.services.root_dir, self.services.allow_hidden
        self.write_json(await self.bucket_call(api_bucket.download, root, request, allow_hidden=hidden))


class BucketDeleteHandler(BucketBase):
    """``POST api/bucket/delete`` with ``{"keys": [...]}``: delete objects."""

    @web.authenticated
    async def post(self) -> None:
        """Delete and answer the keys."""
        request = parse(api_bucket.DeleteRequest, self.json_body())
        await self.bucket_call(lambda bucket: bucket.delete(request.keys))
        self.write_json({"deleted": request.keys})


class BucketSignHandler(BucketBase):
    """``POST api/bucket/sign`` with ``{"key", "method"?, "expires"?}``: a presigned URL of an object."""

    @web.authenticated
    async def post(self) -> None:
        """Answer the URL and its lifetime."""
        request = parse(api_bucket.SignRequest, self.json_body())

        def sign(bucket: Any) -> str:
            if request.method == "GET" and bucket.head(request.key) is None:
                raise NotFoundError(f"There is no object {request.key!r} in the bucket.")
            return str(bucket.sign(request.key, request.method, request.expires))

        url = await self.bucket_call(sign)
        self.write_json({"key": request.key, "method": request.method, "expires": request.expires, "url": url})
