"""The provider's endpoints. All are django-oauth-toolkit's views; the authorization endpoint
and the discovery document are extended with dancu's rules:

- the person signs in with their e-ID (``eid:login``), never with an officer's session;
- the request is validated first (client, redirect URI, parameters), before the person is asked
  to sign in or ``max_age``/``prompt`` are looked at;
- ``max_age``: a login older than that many seconds is asked again (the session stays until the
  new login replaces it);
- ``acr_values`` (and the agreement's minimum level): a session below the level is sent to the
  second-factor step-up when the account can reach it, else the relying party receives
  ``unmet_authentication_requirements`` (``interaction_required`` under ``prompt=none``);
- consent: a stored, unrevoked consent that covers the scopes skips the consent screen (unless
  ``prompt=consent``); otherwise the screen lists each claim and the relying party's purpose.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as dot
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import get_application_model
from oauth2_provider.signals import app_authorized
from oauthlib.common import Request as OauthlibRequest

from dancu.eid import assurance
from dancu.eid import sessions as eid_sessions
from dancu.eid.services.step_up import available_methods
from dancu.oidc import claims as registry_claims
from dancu.oidc import selectors, services
from dancu.oidc.validators import agreement_of

PENDING_KEY = "dancu_oidc_required_level"


def required_level(acr_values: str, agreement_minimum: int) -> int | None:
    """The assurance level to reach: the lowest level among the requested acr values we know
    (each of them satisfies the relying party), at least the agreement's minimum. None when
    acr values were asked for and none is ours (unmeetable)."""
    asked = (acr_values or "").split()
    levels = [lvl for lvl in (assurance.level_of_acr(v) for v in asked) if lvl is not None]
    if asked and not levels:
        return None
    return max(min(levels) if levels else 0, agreement_minimum)


def _without(url_query: dict[str, list[str]], *names: str) -> str:
    return urlencode([(k, v) for k, values in url_query.items() if k not in names for v in values])


class AuthorizeView(dot.AuthorizationView):
    template_name = "oidc/consent.html"
    login_url = reverse_lazy("eid:login")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.eid = eid_sessions.current(request)
        if request.method == "GET":
            # The request first (client, redirect URI, parameters): an invalid one — from any
            # site, with any client_id — is refused before anything else happens, and before the
            # citizen is asked to sign in.
            try:
                self.validate_authorization_request(request)
            except OAuthToolkitError as error:
                return self.error_response(error, application=None)
        if self.eid is None and request.user.is_authenticated:
            logout(request)  # an officer's console session is not a citizen's e-ID login
        if self.eid is not None and request.method == "GET":
            max_age = request.GET.get("max_age", "")
            if max_age.isdigit() and time.time() - self.eid.auth_time > int(max_age):
                # Sign in again; the current session stays until the new login replaces it.
                self.eid = None
                if "none" in request.GET.get("prompt", "").split():
                    return self._error(self._validated_context(), "login_required",
                                       _("Cần đăng nhập lại."))
                query = _without(dict(request.GET.lists()), "max_age", "prompt")
                return redirect(f"{self.login_url}?{urlencode({'next': request.path + '?' + query})}")
        return super().dispatch(request, *args, **kwargs)

    def validate_authorization_request(self, request: HttpRequest) -> tuple[list[str], dict]:
        """The library's validation, once per request (dispatch validates first; the library's
        ``get`` and ``handle_no_permission`` ask again)."""
        cached = getattr(self, "_validated", None)
        if cached is None:
            cached = self._validated = super().validate_authorization_request(request)
        return cached

    def _validated_context(self) -> dict[str, Any]:
        _scopes, credentials = self._validated
        return {"redirect_uri": credentials["redirect_uri"], "state": credentials.get("state"),
                "application": get_application_model().objects.get(
                    client_id=credentials["client_id"])}

    # Called by the library once the request is validated (client, redirect URI, scopes, PKCE),
    # when it would show the consent screen.
    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        application = context.get("application")
        if application is None or self.eid is None:
            return super().render_to_response(context, **kwargs)
        prompt = set(self.request.GET.get("prompt", "").split())
        if context.get("code_challenge_method") != "S256":
            return self._error(context, "invalid_request", _("Chỉ chấp nhận PKCE với phương thức S256."))
        agreement = agreement_of(application)
        minimum = agreement.min_acr_level if agreement else 0
        needed = required_level(self.request.GET.get("acr_values", ""), minimum)
        account = self.eid.account
        reachable = assurance.max_reachable_level(account.level, available_methods(account))
        if needed is None or (needed and reachable < needed):
            return self._error(context, "unmet_authentication_requirements",
                               _("Tài khoản không đạt được mức xác thực bên sử dụng dịch vụ yêu cầu."))
        if needed and self.eid.level < needed:
            if "none" in prompt:
                return self._error(context, "interaction_required", _("Cần xác thực bước hai."))
            return redirect(f"{reverse('eid:step-up')}?"
                            f"{urlencode({'next': self.request.get_full_path(), 'level': needed})}")
        self.request.session[PENDING_KEY] = {application.client_id: needed}
        consent = services.live_consent(self.request.user, application)
        scopes = context.get("scopes", [])
        if consent is not None and set(scopes) <= consent.scope_set and "consent" not in prompt:
            return self._approve()
        if "none" in prompt:
            return self._error(context, "consent_required", _("Cần sự đồng ý của công dân."))
        context["claims_by_scope"] = [
            (scope, self._scope_label(scope), registry_claims.CLAIMS_BY_SCOPE.get(scope, ()))
            for scope in scopes]
        context["agreement"] = agreement
        context["eid"] = self.eid
        return super().render_to_response(context, **kwargs)

    @staticmethod
    def _scope_label(scope: str) -> str:
        return str(settings.OAUTH2_PROVIDER["SCOPES"].get(scope, scope))

    def _error(self, context: dict[str, Any], error: str, description: str) -> HttpResponse:
        params = {"error": error, "error_description": description}
        if context.get("state"):
            params["state"] = context["state"]
        uri = context["redirect_uri"]
        return self.redirect(f"{uri}{'&' if '?' in uri else '?'}{urlencode(params)}", context["application"])

    def _approve(self) -> HttpResponse:
        data = {k: v for k, v in self.get_initial().items() if v not in (None, "")}
        form = self.get_form_class()(data={**data, "allow": True})
        if not form.is_valid():
            return self.form_invalid(form)
        return self.form_valid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        if self.eid is None:
            return self.handle_no_permission()
        application = dot.base.get_application_model().objects.get(client_id=form.cleaned_data["client_id"])
        pending = self.request.session.get(PENDING_KEY) or {}
        if application.client_id not in pending:
            return self.handle_no_permission()  # the request never went through the checks above
        needed = pending[application.client_id]
        if needed and self.eid.level < needed:
            return self.handle_no_permission()
        if form.cleaned_data.get("allow"):
            services.grant_consent(self.request.user, application, form.cleaned_data["scope"].split())
        return super().form_valid(form)

    def create_authorization_response(self, request: HttpRequest, scopes: str, credentials: dict,
                                      allow: bool) -> Any:
        if self.eid is not None:
            credentials = {**credentials, "dancu_auth": {
                "acr": self.eid.acr, "amr": " ".join(self.eid.amr), "auth_time": self.eid.auth_time}}
        return super().create_authorization_response(request, scopes, credentials, allow)


class DiscoveryView(dot.ConnectDiscoveryInfoView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update({
            "acr_values_supported": list(assurance.ACR_VALUES),
            "prompt_values_supported": ["none", "login", "consent"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "revocation_endpoint": request.build_absolute_uri(reverse("oauth2_provider:revoke-token")),
            "introspection_endpoint": request.build_absolute_uri(reverse("oauth2_provider:introspect")),
            "claims_parameter_supported": False,
            # Only what a relying party may get: ID tokens are signed with the provider's RSA key
            # (the library would add HS256, which clients of this provider never use).
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "subject_types_supported": ["pairwise", "public"],
            "ui_locales_supported": ["vi", "en"],
            "service_documentation": request.build_absolute_uri("/api/v1/docs"),
        })
        out = JsonResponse(data)
        out["Access-Control-Allow-Origin"] = "*"
        return out


class IntrospectView(dot.IntrospectTokenView):
    """RFC 7662 with dancu's rule on who may learn about which token
    (``selectors.introspection``). Client authentication is the library's; its failure is a 401.
    POST only, as RFC 7662 §2.1 says: a token in a query string ends up in access logs."""

    http_method_names = ["post", "options"]

    def authenticate_client(self, request: HttpRequest) -> bool:
        core = self.get_oauthlib_core()
        uri, method, body, headers = core._extract_params(request)
        oauth_request = OauthlibRequest(uri, method, body, headers)
        ok = core.server.request_validator.authenticate_client(oauth_request)
        request.dancu_client = oauth_request.client if ok else None  # type: ignore[attr-defined]
        return ok

    def unauthenticated_response(self, request: HttpRequest, oauthlib_request: Any = None) -> HttpResponse:
        """RFC 6749 §5.2 (as RFC 7662 §2.1 asks): missing or wrong client credentials are a 401
        ``invalid_client`` with a Basic challenge, not the library's bare 403."""
        response = JsonResponse({"error": "invalid_client",
                                 "error_description": "Client authentication failed."}, status=401)
        response["WWW-Authenticate"] = 'Basic realm="oidc"'
        return response

    def _answer(self, request: HttpRequest, token_value: str | None) -> HttpResponse:
        if token_value is None:
            return self.get_token_response(None)  # the library's 400
        return JsonResponse(selectors.introspection(getattr(request, "dancu_client", None), token_value))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._answer(request, request.POST.get("token"))


class TokenView(dot.TokenView):
    """The library's token endpoint. After a grant it reads the access token it has just saved back
    by its checksum (one ``SELECT`` of the widest token row) only to send ``app_authorized`` with
    it; nothing in dancu listens to that signal, so the read is skipped while no receiver is
    connected (with one, the library's method runs unchanged)."""

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(self, request: HttpRequest, *args: Any,
                                          **kwargs: Any) -> HttpResponse:
        if app_authorized.has_listeners(sender=self):
            return super().authorization_flow_token_response(request, *args, **kwargs)
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for name, value in headers.items():
            response[name] = value
        return response
