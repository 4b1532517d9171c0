"""Console pages of the ministry administrator: the relying parties and their agreements."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_application_model

from dancu.accounts.views import forbidden, officer_required
from dancu.core.errors import DomainError
from dancu.oidc import services
from dancu.oidc.forms import ClientForm


def _admin_only(request: HttpRequest) -> HttpResponse | None:
    if request.actor.role != "ministry_admin":  # type: ignore[attr-defined]
        return forbidden(request, _("Chỉ quản trị Bộ Công an quản lý bên sử dụng dịch vụ xác thực."))
    return None


@officer_required
def client_list(request: HttpRequest) -> HttpResponse:
    refused = _admin_only(request)
    if refused:
        return refused
    apps = get_application_model().objects.select_related("agreement").order_by("-id")
    return render(request, "oidc/clients.html", {"apps": apps})


@officer_required
def client_new(request: HttpRequest) -> HttpResponse:
    refused = _admin_only(request)
    if refused:
        return refused
    form = ClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.create_client(request.actor, **form.service_kwargs())  # type: ignore[attr-defined]
        except DomainError as exc:
            for error in exc.errors:
                form.add_error(error.field if error.field in form.fields else None, str(error.message))
        else:
            return render(request, "oidc/client_created.html", {"new": new})
    return render(request, "oidc/client_new.html", {"form": form})


app_name = "rp"
urlpatterns = [
    path("", client_list, name="list"),
    path("new/", client_new, name="new"),
]
