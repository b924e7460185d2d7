"""The server side of :mod:`aignostics_jupyter.storage.signing`: buckets served at ``/storage/{bucket}``.

Every request carries an HMAC-signed URL. PUT streams the body to disk (any size; an ``x-aig-crc32c`` header is
verified, 400 on mismatch), GET and HEAD serve objects with HTTP Range support, DELETE removes them, and a GET of
the bucket itself (signed as ``LIST`` over ``prefix``) lists objects as JSON.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from aignostics_jupyter.emulator.auth import services_of
from aignostics_jupyter.emulator.blobstore import BadKeyError, ChecksumMismatchError
from aignostics_jupyter.storage.signing import SignatureError, verify

__all__ = ["router"]

router = APIRouter(prefix="/storage", include_in_schema=False)


def _check(request: Request, method: str, bucket: str, key: str) -> None:
    services = services_of(request)
    if method != "LIST":
        try:
            services.blobs.path_for(bucket, key)
        except BadKeyError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
    secrets = services.bucket_secrets(bucket)
    if secrets is None:
        raise HTTPException(status_code=404, detail=f"no such bucket {bucket!r}")
    try:
        verify(dict(request.query_params), method=method, bucket=bucket, key=key, secrets=secrets)
    except SignatureError as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc


@router.get("/{bucket}")
def list_objects(request: Request, bucket: str, prefix: str = "") -> JSONResponse:
    """List a bucket's objects under a prefix (signed as LIST)."""
    _check(request, "LIST", bucket, prefix)
    try:
        objects = services_of(request).blobs.list(bucket, prefix)
    except BadKeyError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return JSONResponse([o.as_json() for o in objects])


@router.api_route("/{bucket}/{key:path}", methods=["GET", "HEAD"])
def get_object(request: Request, bucket: str, key: str) -> Response:
    """Serve an object, honouring Range and the response-content-* overrides."""
    _check(request, "GET", bucket, key)
    blobs = services_of(request).blobs
    info = blobs.info(bucket, key)
    if info is None:
        raise HTTPException(status_code=404, detail=f"no such object {key!r}")
    media_type = request.query_params.get("response-content-type") or info.content_type or "application/octet-stream"
    headers = {"x-aig-crc32c": info.crc32c, "Cache-Control": "no-store"}
    disposition = request.query_params.get("response-content-disposition")
    if disposition:
        headers["Content-Disposition"] = disposition
    return FileResponse(blobs.path_for(bucket, key), media_type=media_type, headers=headers)


@router.put("/{bucket}/{key:path}")
async def put_object(request: Request, bucket: str, key: str) -> JSONResponse:
    """Store the streamed body as an object."""
    _check(request, "PUT", bucket, key)
    try:
        info = await services_of(request).blobs.put_stream(
            bucket,
            key,
            request.stream(),
            expected_crc32c=request.headers.get("x-aig-crc32c"),
            content_type=request.headers.get("content-type"),
        )
    except ChecksumMismatchError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return JSONResponse(info.as_json(), headers={"x-aig-crc32c": info.crc32c})


@router.delete("/{bucket}/{key:path}")
def delete_object(request: Request, bucket: str, key: str) -> Response:
    """Delete an object (204; 404 when it did not exist)."""
    _check(request, "DELETE", bucket, key)
    if not services_of(request).blobs.delete(bucket, key):
        raise HTTPException(status_code=404, detail=f"no such object {key!r}")
    return Response(status_code=204)
