"""Writes of the authentication service: relying parties and their agreements, consents, and
token revocation when a consent or an account ends. Token issuance itself is
django-oauth-toolkit's (through ``dancu.oidc.validators``)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import (
    clear_expired,
    get_access_token_model,
    get_application_model,
    get_id_token_model,
    get_refresh_token_model,
)

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import DomainError, NotFound
from dancu.oidc.models import Agreement, AuthContext, Consent, RateWindow

GRANT_TYPES = {"authorization-code": "authorization-code", "client-credentials": "client-credentials"}


@dataclass
class NewClient:
    application: object
    client_id: str
    client_secret: str  # shown once; only its hash is stored ("" for a public client)


def _check_redirect_uris(uris: list[str], grant_type: str) -> None:
    if grant_type == "authorization-code" and not uris:
        raise DomainError(
            "E_REQUIRED", _("Cần ít nhất một địa chỉ chuyển hướng (redirect URI)."), "redirect_uris"
        )
    allowed = settings.OAUTH2_PROVIDER.get("ALLOWED_REDIRECT_URI_SCHEMES", ["https"])
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme not in allowed or not parts.netloc or parts.fragment:
            raise DomainError(
                "E_REDIRECT_URI",
                _("Địa chỉ chuyển hướng không hợp lệ: %(uri)s") % {"uri": uri},
                "redirect_uris",
            )


@transaction.atomic
def create_client(
    actor: Actor,
    *,
    name: str,
    organisation: str,
    purpose: str,
    scopes: list[str],
    redirect_uris: list[str],
    grant_type: str = "authorization-code",
    public: bool = False,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime,
    contact_name: str,
    contact_email: str,
    contact_phone: str = "",
    reference: str = "",
    min_acr_level: int = 0,
    post_logout_redirect_uris: list[str] | None = None,
    ekyc_per_minute: int = 600,
    subject_type: str = "pairwise",
    sector_identifier: str = "",
    native: bool = False,
) -> NewClient:
    """Registers a relying party with its agreement (ministry administrators only).

    ``subject_type``: ``pairwise`` (default: the party sees its own ``sub`` for each citizen;
    parties sharing a ``sector_identifier`` see the same) or ``public`` where the agreement allows
    one ``sub`` across parties. ``native``: an installed app (RFC 8252) whose loopback redirect
    URIs may use any port; every other client's redirect URIs match exactly."""
    if actor.role != "ministry_admin":
        raise DomainError("E_ROLE", _("Chỉ quản trị Bộ Công an được đăng ký bên sử dụng dịch vụ."), "role")
    if grant_type not in GRANT_TYPES:
        raise DomainError("E_GRANT_TYPE", _("Loại cấp quyền không hợp lệ."), "grant_type")
    known = set(settings.OAUTH2_PROVIDER["SCOPES"])
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise DomainError(
            "E_SCOPE_UNKNOWN", _("Phạm vi không tồn tại: %(s)s") % {"s": ", ".join(unknown)}, "scopes"
        )
    if grant_type == "authorization-code" and "openid" not in scopes:
        scopes = ["openid", *scopes]
    if grant_type == "client-credentials" and public:
        raise DomainError(
            "E_PUBLIC_CLIENT_CREDENTIALS",
            _("Ứng dụng công khai không dùng được cấp quyền client credentials."),
            "public",
        )
    for field, value in (
        ("name", name),
        ("organisation", organisation),
        ("purpose", purpose),
        ("contact_name", contact_name),
        ("contact_email", contact_email),
    ):
        if not (value or "").strip():
            raise DomainError("E_REQUIRED", _("Trường bắt buộc."), field)
    _check_redirect_uris(redirect_uris, grant_type)
    if subject_type not in ("pairwise", "public"):
        raise DomainError("E_SUBJECT_TYPE", _("Loại định danh chủ thể là pairwise hoặc public."),
                          "subject_type")
    start = valid_from or timezone.now()
    if valid_until <= start:
        raise DomainError("E_VALIDITY", _("Ngày hết hiệu lực phải sau ngày bắt đầu."), "valid_until")
    if not 0 <= min_acr_level <= 4:
        raise DomainError("E_ACR_LEVEL", _("Mức xác thực từ 0 đến 4."), "min_acr_level")
    Application = get_application_model()
    secret = "" if public else secrets.token_urlsafe(48)
    app = Application(
        name=name.strip(),
        client_type=Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=GRANT_TYPES[grant_type],
        redirect_uris=" ".join(redirect_uris),
        post_logout_redirect_uris=" ".join(post_logout_redirect_uris or []),
        algorithm=Application.RS256_ALGORITHM
        if grant_type == "authorization-code"
        else Application.NO_ALGORITHM,
        skip_authorization=False,
        client_secret=secret,
        hash_client_secret=True,
    )
    app.full_clean(exclude=["client_secret", "user"])
    app.save()
    Agreement.objects.create(
        application=app,
        organisation=organisation.strip(),
        reference=reference.strip(),
        purpose=purpose.strip(),
        allowed_scopes=" ".join(sorted(set(scopes))),
        min_acr_level=min_acr_level,
        valid_from=start,
        valid_until=valid_until,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip(),
        contact_phone=contact_phone.strip(),
        ekyc_per_minute=ekyc_per_minute,
        subject_type=subject_type,
        sector_identifier=sector_identifier.strip(),
        application_type="native" if native else "web",
        created_by=actor.label,
    )
    audit.record(
        actor,
        "oidc.client.create",
        subject_type="oauth_client",
        subject_id=app.client_id,
        after={
            "name": app.name,
            "organisation": organisation,
            "scopes": sorted(set(scopes)),
            "grant_type": grant_type,
            "public": public,
            "subject_type": subject_type,
            "sector_identifier": sector_identifier.strip(),
            "native": native,
            "valid_until": valid_until.isoformat(),
        },
        reason=purpose,
    )
    return NewClient(app, app.client_id, secret)


@transaction.atomic
def update_client(
    actor: Actor,
    client_id: str,
    *,
    purpose: str,
    scopes: list[str],
    redirect_uris: list[str],
    valid_until: dt.datetime,
    post_logout_redirect_uris: list[str] | None = None,
    rotate_secret: bool = False,
) -> NewClient:
    """Updates a relying party's agreement (purpose, scopes, validity) and redirect URIs; with
    ``rotate_secret`` a new secret is made (returned once, stored hashed). Ministry
    administrators only; audited ``oidc.client.update``. Used by commands that keep one
    client's registration up to date idempotently (``dancu publicservices setup-portal``)."""
    if actor.role != "ministry_admin":
        raise DomainError("E_ROLE", _("Chỉ quản trị Bộ Công an được đăng ký bên sử dụng dịch vụ."), "role")
    Application = get_application_model()
    app = Application.objects.select_for_update().filter(client_id=client_id).first()
    if app is None:
        raise NotFound("E_CLIENT_UNKNOWN", _("Không tìm thấy bên sử dụng dịch vụ."), "client_id")
    known = set(settings.OAUTH2_PROVIDER["SCOPES"])
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise DomainError(
            "E_SCOPE_UNKNOWN", _("Phạm vi không tồn tại: %(s)s") % {"s": ", ".join(unknown)}, "scopes"
        )
    if not (purpose or "").strip():
        raise DomainError("E_REQUIRED", _("Trường bắt buộc."), "purpose")
    grant = ("authorization-code" if app.authorization_grant_type == "authorization-code"
             else "client-credentials")
    _check_redirect_uris(redirect_uris, grant)
    agreement = Agreement.objects.select_for_update().get(application=app)
    if valid_until <= agreement.valid_from:
        raise DomainError("E_VALIDITY", _("Ngày hết hiệu lực phải sau ngày bắt đầu."), "valid_until")
    if grant == "authorization-code" and "openid" not in scopes:
        scopes = ["openid", *scopes]
    app.redirect_uris = " ".join(redirect_uris)
    if post_logout_redirect_uris is not None:
        app.post_logout_redirect_uris = " ".join(post_logout_redirect_uris)
    secret = ""
    if rotate_secret and app.client_type == Application.CLIENT_CONFIDENTIAL:
        secret = secrets.token_urlsafe(48)
        app.client_secret = secret
        app.hash_client_secret = True
    app.save()
    agreement.purpose = purpose.strip()
    agreement.allowed_scopes = " ".join(sorted(set(scopes)))
    agreement.valid_until = valid_until
    agreement.save(update_fields=["purpose", "allowed_scopes", "valid_until"])
    audit.record(
        actor,
        "oidc.client.update",
        subject_type="oauth_client",
        subject_id=app.client_id,
        after={"scopes": sorted(set(scopes)), "redirect_uris": redirect_uris,
               "valid_until": valid_until.isoformat(), "secret_rotated": bool(secret)},
        reason=purpose,
    )
    return NewClient(app, app.client_id, secret)


# ---- consents ------------------------------------------------------------------------------------


def live_consent(user: Any, application: Any) -> Consent | None:
    return Consent.objects.filter(user=user, application=application, revoked_at__isnull=True).first()


@transaction.atomic
def grant_consent(user: Any, application: Any, scopes: list[str]) -> Consent:
    """Stores (or widens) the person's consent for this relying party."""
    agreement = application.agreement
    now = timezone.now()
    current = (
        Consent.objects.select_for_update()
        .filter(user=user, application=application, revoked_at__isnull=True)
        .first()
    )
    wanted = set(scopes)
    if current is not None:
        if wanted <= current.scope_set:
            return current
        wanted |= current.scope_set
        current.revoked_at = now
        current.save(update_fields=["revoked_at"])
    return Consent.objects.create(
        user=user,
        application=application,
        scopes=" ".join(sorted(wanted)),
        purpose=agreement.purpose,
        granted_at=now,
    )


def revoke_tokens(user: object, application: object | None = None) -> int:
    """Revokes the person's access and refresh tokens (for one relying party, or all)."""
    AccessToken, RefreshToken = get_access_token_model(), get_refresh_token_model()
    refresh = RefreshToken.objects.filter(user=user, revoked__isnull=True)
    access = AccessToken.objects.filter(user=user)
    if application is not None:
        refresh, access = refresh.filter(application=application), access.filter(application=application)
    count = 0
    for token in refresh:
        token.revoke()  # also deletes its access token
        count += 1
    count += access.count()
    access.delete()
    return count


@transaction.atomic
def revoke_consent(user: Any, consent_id: int, *, actor: Actor) -> Consent:
    consent = (
        Consent.objects.select_for_update().filter(pk=consent_id, user=user, revoked_at__isnull=True).first()
    )
    if consent is None:
        raise NotFound("E_CONSENT_UNKNOWN", _("Không tìm thấy sự đồng ý này."), "consent")
    consent.revoked_at = timezone.now()
    consent.save(update_fields=["revoked_at"])
    revoke_tokens(user, consent.application)
    audit.record(
        actor,
        "oidc.consent.revoke",
        subject_type="consent",
        subject_id=consent.pk,
        personal_id=actor.label.removeprefix("citizen:"),
        details={"client_id": consent.application.client_id, "scopes": consent.scopes},
    )
    return consent


@dataclass(frozen=True)
class Pruned:
    rate_windows: int
    code_contexts: int
    id_token_contexts: int


def prune(now: dt.datetime | None = None) -> Pruned:
    """Housekeeping (nightly, ``dancu oidc prune``): what no request will read again.

    - eKYC rate windows of minutes that are over (the current and the previous one are kept);
    - the library's expired tokens, codes and ID tokens (its ``clear_expired``: refresh tokens
      revoked or expired longer ago than ``REFRESH_TOKEN_EXPIRE_SECONDS``, access and ID tokens
      past their end that nothing refers to, expired codes);
    - authentication contexts of authorization codes older than an hour (a code lives 60 s), and
      of ID tokens the library has deleted.

    Consents, agreements, login history and audit events are never pruned here."""
    now = now or timezone.now()
    with transaction.atomic():
        windows = RateWindow.objects.filter(window__lt=int(now.timestamp() // 60) - 1).delete()[0]
        codes = AuthContext.objects.filter(code_digest__isnull=False,
                                           created_at__lt=now - dt.timedelta(hours=1)).delete()[0]
    clear_expired()  # the library's own batches and transactions
    with transaction.atomic():
        gone = (AuthContext.objects.filter(id_token_jti__isnull=False)
                .exclude(id_token_jti__in=get_id_token_model().objects.values("jti")))
        contexts = gone.delete()[0]
    return Pruned(windows, codes, contexts)
