"""Safe retries: every write of the API runs through ``run_write``.

With an ``Idempotency-Key`` header, the first answer is stored in the same transaction as the
write; a retry with the same key and the same body gets that answer back (with an
``Idempotent-Replayed: true`` header) and writes nothing; the same key with another body is 422.
Two requests with one key at the same moment: the second waits on the key's unique index, then
replays the first one's answer. Deadlocks and serialization failures between concurrent batches
are retried here, a few times, from the start.
"""

import hashlib
import json
import time
from collections.abc import Callable

from django.db import IntegrityError, OperationalError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from .models import IdempotencyRecord

RETRYABLE_PGCODES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
ATTEMPTS = 4


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


def _principal(request) -> str:
    return f"key:{request.auth.prefix}" if request.membership is None else f"user:{request.user.pk}"


def _retryable(error: OperationalError) -> bool:
    return getattr(error.__cause__, "pgcode", None) in RETRYABLE_PGCODES


def _canonical(body: bytes) -> bytes:
    """The body as the request means it: a JSON body re-encoded with sorted keys and no spacing,
    so a client that re-serializes its retry (other spacing or key order) is the same request.
    A lone surrogate (JSON's "\\ud800") is encoded as it came ("surrogatepass"): its record is
    refused later, naming the field, and a retry must still compare equal. A body that is not
    JSON (or not UTF-8, or nested too deep to parse, as a DELETE's body may be) is its bytes."""
    try:
        parsed = json.loads(body)
        text = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):
        return body
    return text.encode("utf-8", "surrogatepass")


def run_write(request, write: Callable[[], tuple[int, object]], body: bytes) -> Response:
    """Run ``write`` (returning the status and the JSON answer) in one transaction, honouring
    the request's Idempotency-Key."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 255:
        raise IdempotencyKeyReused("An Idempotency-Key is at most 255 characters.")
    request_line = request.method.encode() + b" " + request.path.encode() + b"\n"
    digest = hashlib.sha256(request_line + _canonical(body)).hexdigest()
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                if key:
                    replay = _replay(request, key, digest)
                    if replay is not None:
                        return replay
                    record = IdempotencyRecord.objects.create(
                        workspace=request.workspace,
                        key=key,
                        principal=_principal(request),
                        method=request.method,
                        path=request.path[:500],
                        body_sha256=digest,
                    )
                code, data = write()
                if key:
                    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=code, response=json.dumps(data))
                return Response(data, status=code)
        except IntegrityError:
            if not key or attempt == ATTEMPTS - 1:
                raise
            # the same key arrived at the same moment and was written first: replay it next time round
        except OperationalError as error:
            if not _retryable(error) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _replay(request, key: str, digest: str) -> Response | None:
    record = IdempotencyRecord.objects.filter(principal=_principal(request), key=key).first()
    if record is None:
        return None
    if record.body_sha256 != digest:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key '{key}' was used for another request (another body or endpoint); "
            "use a new key for a new request."
        )
    response = Response(json.loads(record.response) if record.response else None, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response
