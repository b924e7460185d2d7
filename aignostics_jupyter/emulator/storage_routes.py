"""The server side of :mod:`aignostics_jupyter.storage.signing`: buckets served at ``/storage/{bucket}``.

Every request carries an HMAC-signed URL. PUT streams the body to disk (any size; an ``x-aig-crc32c`` header is
verified, 400 on mismatch), GET and HEAD serve objects with HTTP Range support, DELETE removes them, and a GET of
the bucket itself (signed as ``LIST`` over ``prefix``) lists objects as JSON.

Multipart uploads (:mod:`~aignostics_jupyter.emulator.multipart`) use the object's signed PUT URL plus
``uploadId``: ``PUT …&uploadId=U&partOffset=N`` stores a part (verified against ``x-aig-crc32c`` when sent),
``GET …&uploadId=U`` lists the stored parts (and names the part endpoint, :mod:`.part_endpoint`, where the same
part PUTs are served faster), ``POST …&uploadId=U`` with ``{"size": …, "crc32c": …}`` completes the object (409
when parts are missing), and ``DELETE …&uploadId=U`` aborts.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from aignostics_jupyter.emulator.auth import services_of
from aignostics_jupyter.emulator.blobstore import BadKeyError, ChecksumMismatchError
from aignostics_jupyter.emulator.multipart import IncompleteUploadError, MultipartUploads
from aignostics_jupyter.emulator.storage_access import StorageDeniedError, check_signed, storage_full

__all__ = ["router"]

router = APIRouter(prefix="/storage", include_in_schema=False)


def _check(request: Request, method: str, bucket: str, key: str) -> None:
    try:
        check_signed(services_of(request), request.query_params, method=method, bucket=bucket, key=key)
    except StorageDeniedError as exc:
        raise HTTPException(status_code=exc.status, detail=exc.detail) from exc


@router.get("/{bucket}")
def list_objects(request: Request, bucket: str, prefix: str = "") -> JSONResponse:
    """List a bucket's objects under a prefix (signed as LIST)."""
    _check(request, "LIST", bucket, prefix)
    try:
        objects = services_of(request).blobs.list(bucket, prefix)
    except BadKeyError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return JSONResponse([o.as_json() for o in objects])


def _storage_full(exc: OSError) -> Exception:
    """507 for a full disk; other OS errors as they are."""
    full = storage_full(exc)
    return exc if full is None else HTTPException(status_code=full.status, detail=full.detail)


def _upload_id(request: Request) -> str | None:
    return request.query_params.get("uploadId")


def _multipart(request: Request) -> MultipartUploads:
    return MultipartUploads(services_of(request).blobs)


@router.api_route("/{bucket}/{key:path}", methods=["GET", "HEAD"])
def get_object(request: Request, bucket: str, key: str) -> Response:
    """Serve an object, honouring Range and the response-content-* overrides (or list a multipart upload's parts)."""
    upload_id = _upload_id(request)
    if upload_id is not None:
        _check(request, "PUT", bucket, key)
        try:
            parts = _multipart(request).parts(bucket, key, upload_id)
        except BadKeyError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        listing: dict[str, Any] = {"upload_id": upload_id, "parts": [p.as_json() for p in parts]}
        endpoint = services_of(request).part_endpoint
        if endpoint is not None:
            listing["part_endpoint"] = endpoint  # where parts may go without the API stack (see part_endpoint)
        return JSONResponse(listing)
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
    """Store the streamed body as an object (or as one part of a multipart upload)."""
    _check(request, "PUT", bucket, key)
    upload_id = _upload_id(request)
    if upload_id is not None:
        return await _put_part(request, bucket, key, upload_id)
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
    except OSError as exc:
        raise _storage_full(exc) from exc
    return JSONResponse(info.as_json(), headers={"x-aig-crc32c": info.crc32c})


async def _put_part(request: Request, bucket: str, key: str, upload_id: str) -> JSONResponse:
    expected = request.headers.get("x-aig-crc32c")
    try:
        offset = int(request.query_params.get("partOffset", ""))
    except ValueError:
        raise HTTPException(status_code=400, detail="a part needs an integer partOffset") from None
    try:
        part = await _multipart(request).put_part(
            bucket, key, upload_id, offset=offset, chunks=request.stream(), expected_crc32c=expected
        )
    except (BadKeyError, ChecksumMismatchError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    except OSError as exc:
        raise _storage_full(exc) from exc
    return JSONResponse(part.as_json(), headers={"x-aig-crc32c": part.crc32c})


@router.post("/{bucket}/{key:path}")
async def complete_upload(request: Request, bucket: str, key: str) -> JSONResponse:
    """Complete a multipart upload: ``{"size": bytes, "crc32c": base64}`` of the whole object."""
    _check(request, "PUT", bucket, key)
    upload_id = _upload_id(request)
    if upload_id is None:
        raise HTTPException(status_code=400, detail="POST completes a multipart upload: uploadId is missing")
    try:
        body: Any = json.loads(await request.body())
        size, crc = int(body["size"]), str(body["crc32c"])
    except (ValueError, KeyError, TypeError):
        raise HTTPException(status_code=400, detail='the body must be JSON {"size": bytes, "crc32c": base64}') from None
    try:
        info = _multipart(request).complete(
            bucket, key, upload_id, size=size, crc32c=crc, content_type=request.headers.get("x-aig-content-type")
        )
    except IncompleteUploadError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except (BadKeyError, ChecksumMismatchError) as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return JSONResponse(info.as_json(), headers={"x-aig-crc32c": info.crc32c})


@router.delete("/{bucket}/{key:path}")
def delete_object(request: Request, bucket: str, key: str) -> Response:
    """Delete an object (204; 404 when it did not exist), or abort a multipart upload."""
    upload_id = _upload_id(request)
    if upload_id is not None:
        _check(request, "PUT", bucket, key)
        try:
            existed = _multipart(request).abort(bucket, key, upload_id)
        except BadKeyError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        if not existed:
            raise HTTPException(status_code=404, detail=f"no such upload {upload_id!r}")
        return Response(status_code=204)
    _check(request, "DELETE", bucket, key)
    if not services_of(request).blobs.delete(bucket, key):
        raise HTTPException(status_code=404, detail=f"no such object {key!r}")
    return Response(status_code=204)
