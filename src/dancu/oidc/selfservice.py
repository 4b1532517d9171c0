"""The citizen's page of consents given to relying parties (revocable), linked from their e-ID
page; and the same operations for the e-ID mobile app in the JSON API (``oidc/api.py``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from dancu.core.errors import DomainError
from dancu.core.net import client_ip
from dancu.eid import sessions
from dancu.eid.services import citizen_actor
from dancu.oidc import selectors, services


def consents(request: HttpRequest) -> HttpResponse:
    current = sessions.current(request)
    if current is None:
        return redirect(f"{reverse('eid:login')}?next={request.path}")
    account = current.account
    if request.method == "POST":
        try:
            services.revoke_consent(account.user, int(request.POST.get("consent") or 0),
                                    actor=citizen_actor(account.personal_id, user_id=account.user_id,
                                                        ip=client_ip(request)))
        except (DomainError, ValueError):
            messages.error(request, _("Không tìm thấy sự đồng ý này."))
        else:
            messages.success(request, _("Đã rút lại sự đồng ý; dịch vụ không còn nhận thông tin của bạn."))
        return redirect("consents:list")
    return render(request, "oidc/consents.html", {
        "eid": current, "consents": selectors.consents_of(account),
        "services": selectors.relying_parties_logged_in(account)})


app_name = "consents"
urlpatterns = [path("", consents, name="list")]
