"""Registering relying parties: the administrator's console page and `dancu oidc`."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from oauth2_provider.models import get_application_model

from dancu.audit.models import AuditEvent
from dancu.oidc.models import Agreement

FORM = {
    "name": "Ngân hàng A",
    "organisation": "Ngân hàng TMCP A",
    "purpose": "Định danh khách hàng (eKYC)",
    "grant_type": "authorization-code",
    "scopes": ["openid", "identity", "profile"],
    "redirect_uris": "https://bank-a.example.vn/cb",
    "min_acr_level": "0",
    "valid_until": "2027-12-31",
    "contact_name": "Phòng CNTT",
    "contact_email": "it@bank-a.example.vn",
    "ekyc_per_minute": "600",
}


def _login(client, actor) -> None:
    client.force_login(get_user_model().objects.get(username=actor.label))


def test_ministry_admin_registers_a_relying_party_and_sees_the_secret_once(client, ministry_admin) -> None:
    _login(client, ministry_admin)
    response = client.post("/relying-parties/new/", FORM)
    assert response.status_code == 200
    secret = response.context["new"].client_secret
    assert secret and secret in response.content.decode()
    app = get_application_model().objects.get(name="Ngân hàng A")
    assert app.client_secret != secret and app.client_secret.startswith("client_sha256$")
    agreement = Agreement.objects.get(application=app)
    assert agreement.scopes == {"openid", "identity", "profile"} and agreement.in_force()
    # Pairwise subject identifiers and exact redirect URIs unless the agreement says otherwise.
    assert (agreement.subject_type, agreement.sector_identifier, agreement.application_type) == (
        "pairwise", "", "web")
    assert AuditEvent.objects.filter(action="oidc.client.create", actor_label=ministry_admin.label).exists()
    listing = client.get("/relying-parties/").content.decode()
    assert "Ngân hàng TMCP A" in listing and app.client_id in listing and secret not in listing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"redirect_uris": "ftp://bank/cb"}, "redirect_uris"),
        ({"redirect_uris": ""}, "redirect_uris"),
        ({"valid_until": "2001-01-01"}, "valid_until"),
        ({"contact_email": "not-an-email"}, "contact_email"),
    ],
)
def test_bad_registration_names_the_field_and_saves_nothing(client, ministry_admin, change, field) -> None:
    _login(client, ministry_admin)
    response = client.post("/relying-parties/new/", FORM | change)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not get_application_model().objects.exists()


def test_registration_sets_the_subject_type_sector_and_native_app(client, ministry_admin) -> None:
    _login(client, ministry_admin)
    response = client.post("/relying-parties/new/", FORM | {"native": "on", "public_subject": "on",
                                                            "sector_identifier": "bank-a.example.vn"})
    assert response.status_code == 200 and response.context["new"].client_id
    agreement = Agreement.objects.get(application__name="Ngân hàng A")
    assert (agreement.subject_type, agreement.sector_identifier, agreement.application_type) == (
        "public", "bank-a.example.vn", "native")


def test_only_the_ministry_administers_relying_parties(client, commune_officer) -> None:
    _login(client, commune_officer)
    assert client.get("/relying-parties/").status_code == 403
    assert client.post("/relying-parties/new/", FORM).status_code == 403


def test_cli_registers_lists_and_rejects(db, tmp_path) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "oidc",
        "client",
        "create",
        "--name",
        "Cổng DVC",
        "--organisation",
        "Văn phòng Chính phủ",
        "--purpose",
        "Đăng nhập Cổng Dịch vụ công",
        "--scopes",
        "openid identity profile address",
        "--redirect-uri",
        "https://dichvucong.example.vn/cb",
        "--valid-until",
        "2027-06-30",
        "--contact-name",
        "Trung tâm",
        "--contact-email",
        "tt@dvc.example.vn",
        stdout=out,
        stderr=err,
    )
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert lines["client_id"] and len(lines["client_secret"]) > 40
    assert Agreement.objects.get(application__client_id=lines["client_id"]).subject_type == "pairwise"
    native = io.StringIO()
    call_command("oidc", "client", "create", "--name", "App", "--organisation", "VPCP", "--purpose", "P",
                 "--scopes", "openid", "--redirect-uri", "http://127.0.0.1:7000/cb", "--valid-until",
                 "2027-06-30", "--contact-name", "T", "--contact-email", "t@dvc.example.vn", "--native",
                 "--public-subject", "--sector-identifier", "dvc", stdout=native, stderr=io.StringIO())
    native_id = dict(line.split(": ", 1) for line in native.getvalue().splitlines())["client_id"]
    agreement = Agreement.objects.get(application__client_id=native_id)
    assert (agreement.subject_type, agreement.sector_identifier, agreement.application_type) == (
        "public", "dvc", "native")
    listing = io.StringIO()
    call_command("oidc", "client", "list", stdout=listing)
    assert "Cổng DVC" in listing.getvalue() and "in force" in listing.getvalue()
    with pytest.raises(CommandError, match="--scopes"):
        call_command(
            "oidc",
            "client",
            "create",
            "--name",
            "X",
            "--organisation",
            "X",
            "--purpose",
            "X",
            "--scopes",
            "openid everything",
            "--redirect-uri",
            "https://x.example/cb",
            "--valid-until",
            "2027-01-01",
            "--contact-name",
            "X",
            "--contact-email",
            "x@x.vn",
            stdout=io.StringIO(),
        )
