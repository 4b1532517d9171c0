"""``dancu officer``: accounts and API tokens from the command line."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from dancu.accounts.models import ApiToken, OfficerProfile
from dancu.accounts.services import actor_for_token
from dancu.audit.models import AuditEvent


def run(*args: str, stdin: str | None = None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    extra = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    call_command("officer", *args, stdout=out, stderr=err, **extra)
    return out.getvalue(), err.getvalue()


def test_create_service_account_with_commune_area(geo) -> None:
    out, _err = run("create", "svc.bhxh", "--role", "service", "--unit", "2025:14758",
                    "--display-name", "BHXH Thanh Hóa")
    profile = OfficerProfile.objects.select_related("user", "jurisdiction").get(user__username="svc.bhxh")
    assert (profile.role, profile.jurisdiction, profile.display_name) == (
        "service", geo.hac_thanh, "BHXH Thanh Hóa")
    assert not profile.user.has_usable_password()  # a service account signs in with tokens only
    assert "svc.bhxh" in out and "2025:14758" in out
    assert AuditEvent.objects.filter(action="account.create", source="system").count() == 1


def test_create_officer_with_password_from_stdin(geo) -> None:
    run("create", "ca.dongson", "--role", "commune_police", "--unit", "2025:14797",
        "--password-stdin", stdin="một-mật-khẩu-dài-2026\n")
    user = get_user_model().objects.get(username="ca.dongson")
    assert user.check_password("một-mật-khẩu-dài-2026")
    assert user.officer.jurisdiction == geo.dong_son


def test_create_national_account_without_password(geo) -> None:
    run("create", "kiem.tra2", "--role", "auditor", "--no-password")
    profile = OfficerProfile.objects.get(user__username="kiem.tra2")
    assert profile.jurisdiction is None and not profile.user.has_usable_password()


def test_weak_password_is_refused(geo) -> None:
    with pytest.raises(CommandError, match="password"):
        run("create", "ca.x", "--role", "auditor", "--password-stdin", stdin="123\n")
    assert not get_user_model().objects.filter(username="ca.x").exists()


def test_bad_role_names_the_argument(geo) -> None:
    with pytest.raises(CommandError, match="--role"):
        run("create", "x", "--role", "chief", "--no-password")


@pytest.mark.parametrize(("unit", "role"), [
    ("2025:99999", "service"),        # unknown
    ("legacy:14758", "service"),      # legacy units are not areas
    ("bogus", "service"),             # malformed
    ("2025:38", "commune_police"),    # a province for commune police
    ("2025:14758", "province_police"),  # a commune for province police
])
def test_bad_unit_names_the_argument(geo, unit, role) -> None:
    with pytest.raises(CommandError, match="--unit"):
        run("create", "x", "--role", role, "--unit", unit, "--no-password")
    assert not OfficerProfile.objects.exists()


def test_commune_police_needs_a_unit(geo) -> None:
    with pytest.raises(CommandError, match="--unit"):
        run("create", "x", "--role", "commune_police", "--no-password")


def test_taken_username_names_the_argument(geo) -> None:
    run("create", "svc.a", "--role", "service")
    with pytest.raises(CommandError, match="USERNAME"):
        run("create", "svc.a", "--role", "service")


def test_token_create_prints_it_once_and_stores_only_the_digest(geo) -> None:
    run("create", "svc.thue", "--role", "service")
    out, err = run("token", "create", "svc.thue", "--name", "cổng thuế")
    token = out.strip()
    assert token.startswith("dct_") and "\n" not in token
    row = ApiToken.objects.get(profile__user__username="svc.thue")
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert row.name == "cổng thuế" and token not in err
    actor = actor_for_token(token)
    assert actor is not None and (actor.label, actor.source, actor.role) == ("svc.thue", "api", "service")
    assert AuditEvent.objects.filter(action="account.token.create").count() == 1


def test_token_create_for_unknown_user(geo) -> None:
    with pytest.raises(CommandError, match="USERNAME"):
        run("token", "create", "nobody", "--name", "x")


def test_token_revoke(geo) -> None:
    run("create", "svc.b", "--role", "service")
    token = run("token", "create", "svc.b", "--name", "x")[0].strip()
    token_id = ApiToken.objects.get().pk
    out, _err = run("token", "revoke", str(token_id))
    assert "Revoked" in out
    assert actor_for_token(token) is None
    assert ApiToken.objects.get().revoked_at is not None
    out, _err = run("token", "revoke", str(token_id))
    assert "already revoked" in out
    assert AuditEvent.objects.filter(action="account.token.revoke").count() == 1


def test_token_revoke_unknown_id(geo) -> None:
    with pytest.raises(CommandError, match="ID"):
        run("token", "revoke", "424242")
    with pytest.raises(CommandError, match="ID"):
        run("token", "revoke", "abc")


def test_list_shows_accounts_and_tokens(geo) -> None:
    run("create", "svc.c", "--role", "service", "--unit", "2025:38")
    run("create", "kiem.tra3", "--role", "auditor", "--no-password")
    run("token", "create", "svc.c", "--name", "bảo hiểm")
    out, _err = run("list")
    lines = out.splitlines()
    assert lines[0].startswith("kiem.tra3") and "national" in lines[0]
    assert lines[1].startswith("svc.c") and "2025:38" in lines[1]
    assert "'bảo hiểm'" in lines[2] and "active" in lines[2] and "dct_" in lines[2]


def test_a_subcommand_is_required(geo) -> None:
    with pytest.raises(CommandError):
        run()
    with pytest.raises(CommandError):
        run("token")


def test_account_and_its_audit_event_commit_together(geo, monkeypatch) -> None:
    """accounts.services audits in its own transaction: an audit
    write that fails leaves no account, no token and no revocation behind."""
    def fail(*args, **kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(AuditEvent.objects, "create", fail)
    with pytest.raises(RuntimeError):
        run("create", "svc.c", "--role", "service")
    assert not get_user_model().objects.filter(username="svc.c").exists()
    monkeypatch.undo()

    run("create", "svc.c", "--role", "service")
    monkeypatch.setattr(AuditEvent.objects, "create", fail)
    with pytest.raises(RuntimeError):
        run("token", "create", "svc.c", "--name", "x")
    assert not ApiToken.objects.exists()
    monkeypatch.undo()

    run("token", "create", "svc.c", "--name", "x")
    monkeypatch.setattr(AuditEvent.objects, "create", fail)
    with pytest.raises(RuntimeError):
        run("token", "revoke", str(ApiToken.objects.get().pk))
    assert ApiToken.objects.get().revoked_at is None
