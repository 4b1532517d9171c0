"""The authentication service's JSON API: eKYC verification (client credentials, scope ``ekyc``)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from dancu.oidc import ekyc
from dancu.oidc.auth import OAuthBearer

router = Router(tags=["ekyc"], auth=OAuthBearer(["ekyc"]))


class VerifyIn(Schema):
    personal_id: str = Field(min_length=12, max_length=12, pattern=r"^\d{12}$")
    full_name: str = Field(min_length=1, max_length=150)
    birth_date: dt.date
    purpose: str = Field(default="", max_length=500)


class VerifyOut(Schema):
    result: str  # match | no_match | deceased | account_locked


@router.post("/verify", response=VerifyOut, operation_id="ekyc_verify",
             summary="Đối chiếu số định danh, họ tên, ngày sinh với CSDL quốc gia về dân cư")
def verify(request: HttpRequest, body: VerifyIn) -> dict[str, str] | HttpResponse:
    return {"result": ekyc.verify(request.auth, personal_id=body.personal_id, full_name=body.full_name,
                                  birth_date=body.birth_date, purpose=body.purpose)}
