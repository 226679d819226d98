"""Intake's referral routes: submitting a referral over HTTP, reading back the answer it was
given, and recording a residency exception for one (see :mod:`services.intake.http`)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal
from uuid import UUID

import anyio
from fastapi import APIRouter, HTTPException, Request, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from events.codec import MAX_DATA_BYTES
from events.intake import ContractNotice, Reason
from events.referrals import ReferralId, Source, SubmitReferral
from events.strictjson import NotJson, loads
from infra.auth import STAFF, Role, guard
from infra.runtime import Runtime
from infra.tokens import Principal
from services.intake.answers import Answer
from services.intake.application import Intake


class Accepted(BaseModel):
    status: str = "accepted"
    case_id: UUID
    source: str
    referral_id: str
    #: As on ``ReferralReceived``: no contract of the programme in force on the day received.
    no_contract_in_force: ContractNotice | None = None


class Rejected(BaseModel):
    status: str = "rejected"
    source: str | None
    referral_id: str | None
    reasons: list[Reason]


class RateLimited(BaseModel):
    """Refused for now: the source is over its rate limit; send the referral again later."""

    status: str = "rate_limited"
    source: str | None
    referral_id: str | None
    reasons: list[Reason]
    retry_after_seconds: int


class GrantException(BaseModel):
    source: Source
    referral_id: ReferralId
    granted_by: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


Standing = Literal["not_received", "accepted", "rejected"]


class ExceptionRecorded(BaseModel):
    """A residency exception recorded, and where its referral stands now."""

    exception_id: UUID
    #: The referral's answer now: not received yet (the exception applies when it arrives),
    #: accepted (``case_id``) or rejected.
    referral: Standing
    #: Whether the referral, rejected only as not resident, was evaluated again under the
    #: exception (and answered again on intake.events).
    reevaluated: bool
    case_id: UUID | None = None


def _answer_response(answer: Answer) -> JSONResponse:
    if answer.retry_after is not None:
        seconds = max(1, math.ceil(answer.retry_after.total_seconds()))
        refused = RateLimited(
            source=answer.source,
            referral_id=answer.referral_id,
            reasons=[Reason(**r) for r in answer.reasons],
            retry_after_seconds=seconds,
        )
        return JSONResponse(
            refused.model_dump(mode="json"),
            status_code=429,
            headers={"Retry-After": str(seconds)},
        )
    if answer.accepted:
        assert answer.case_id is not None and answer.source and answer.referral_id
        body: BaseModel = Accepted(
            case_id=answer.case_id,
            source=answer.source,
            referral_id=answer.referral_id,
            no_contract_in_force=answer.no_contract_in_force,  # type: ignore[arg-type]
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=202)
    body = Rejected(
        source=answer.source,
        referral_id=answer.referral_id,
        reasons=[Reason(**r) for r in answer.reasons],
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=409 if answer.conflict else 422)


def _read(body: bytes) -> Any:
    """The body's JSON: at most the stream's limit on ``data`` (256 KiB; else 413 naming it,
    where the stream dead-letters the entry), UTF-8 and strict JSON (:mod:`events.strictjson`:
    no NaN or Infinity, no 4,301-digit integer). A body that is not JSON is answered 422
    ``malformed`` and not recorded, as before intake reads its sender (:class:`_Unread`)."""
    if len(body) > MAX_DATA_BYTES:
        raise HTTPException(
            413,
            f"a referral is at most {MAX_DATA_BYTES} bytes of JSON (as on the stream); "
            f"this body is {len(body)} bytes",
        )
    try:
        return loads(body.decode("utf-8"))
    except (UnicodeDecodeError, NotJson) as exc:
        raise _Unread(f"the body is not JSON: {exc}") from exc


class _Unread(Exception):
    """A referral body that is not JSON; the text is its reason (without the input)."""

    def answer(self) -> JSONResponse:
        reason = {"code": "malformed", "field": "", "message": str(self)}
        return _answer_response(Answer(False, None, None, reasons=[reason]))


#: What ``POST /referrals`` may answer besides 202, documented on the route.
SUBMIT_ANSWERS: dict[int | str, dict[str, Any]] = {
    409: {
        "model": Rejected,
        "description": "conflicting_resubmission: another referral was already received "
        "under this (source, referral_id); its answer stands. Send this one under a new "
        "referral_id",
    },
    422: {"model": Rejected, "description": "rejected, with every reason"},
    429: {
        "model": RateLimited,
        "description": "the source is over its rate limit: send it again after "
        "Retry-After seconds (it is evaluated anew then)",
    },
}
#: The body of ``POST /referrals``: the stream's SubmitReferral, read by :func:`_read`.
SUBMIT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": SubmitReferral.model_json_schema()}},
    }
}


def referral_routes(intake: Intake, runtime: Runtime) -> APIRouter:
    """``POST /referrals`` and the answer given to one."""
    router = APIRouter()

    @router.post(
        "/referrals",
        status_code=202,
        response_model=Accepted,
        responses=SUBMIT_ANSWERS,
        openapi_extra=SUBMIT_BODY,
    )
    async def submit_referral(
        request: Request, caller: Annotated[Principal, Security(guard(Role.PUBLISHER))]
    ) -> JSONResponse:
        """Submit a referral (the SubmitReferral JSON of contracts.md) as one of the token's
        sources.

        The same (source, referral_id) again returns the first answer and creates nothing new;
        a different referral under it is refused (409). A referral refused by the rate limit
        (429) is no answer: sent again, it is evaluated.
        """
        body = await request.body()
        try:
            data = _read(body)
        except _Unread as unread:
            return unread.answer()
        source = data.get("source") if isinstance(data, dict) else None
        if source is not None and not caller.may_publish_as(source):
            raise HTTPException(403, "this token may not submit referrals as that source")
        answer = await anyio.to_thread.run_sync(intake.submit, body)
        runtime.wake_relay()
        return _answer_response(answer)

    # ``:path``: a referral_id may hold '/' (percent-encoded or not) and is read back whole.
    @router.get(
        "/referrals/{source}/{referral_id:path}",
        response_model=Accepted,
        responses={404: {"description": "not received"}, 422: {"model": Rejected}},
    )
    async def referral_answer(
        source: str,
        referral_id: str,
        caller: Annotated[Principal, Security(guard(Role.PUBLISHER, Role.STAFF, Role.AUDITOR))],
    ) -> JSONResponse:
        """The answer given to a referral (a publisher: to one of its own sources). A
        referral_id with '/' is read back as it is; percent-encode '.' and '..' segments
        (%2E), which clients otherwise resolve away."""
        if caller.role is Role.PUBLISHER and not caller.may_publish_as(source):
            raise HTTPException(403, "this token may not read that source's referrals")
        answer = await anyio.to_thread.run_sync(intake.answer, source, referral_id)
        if answer is None:
            raise HTTPException(404, "no such referral was received from that source")
        return _answer_response(answer)

    return router


def residency_routes(intake: Intake, runtime: Runtime) -> APIRouter:
    """``/residency-exceptions``."""
    router = APIRouter()

    @router.post(
        "/residency-exceptions",
        status_code=201,
        response_model=ExceptionRecorded,
        dependencies=STAFF,
    )
    async def grant_residency_exception(grant: GrantException) -> ExceptionRecorded:
        """Record the administration's agreement that a counselling referral may serve
        non-residents. It applies when that referral is received; a referral already rejected
        only as not resident is evaluated again now and answered again on intake.events, the
        exception named as the cause (recording the same exception again changes nothing)."""
        exception_id, reevaluated = await anyio.to_thread.run_sync(
            intake.grant_residency_exception,
            grant.source,
            grant.referral_id,
            grant.granted_by,
            grant.reason,
        )
        runtime.wake_relay()
        answer = await anyio.to_thread.run_sync(intake.answer, grant.source, grant.referral_id)
        standing: Standing = "not_received"
        if answer is not None:
            standing = "accepted" if answer.accepted else "rejected"
        return ExceptionRecorded(
            exception_id=exception_id,
            referral=standing,
            reevaluated=reevaluated,
            case_id=answer.case_id if answer is not None else None,
        )

    return router
