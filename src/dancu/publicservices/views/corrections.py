"""The counter's correction requests ("báo sai"), under /mot-cua/dieu-chinh/: the open requests
of the officer's area (paged) and one request, where the officer opens the person's correction
page of the registry (the registry's own service makes the change, audited there) and then
closes the request as handled or rejected (``services.corrections.handle_correction``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dancu.accounts.actor import WRITE_ROLES
from dancu.accounts.views import officer_required
from dancu.core.errors import DomainError
from dancu.population.models import MaritalStatus, Sex
from dancu.publicservices import correction_selectors as selectors
from dancu.publicservices.models import CorrectionStatus
from dancu.publicservices.services import corrections
from dancu.publicservices.views.counter import _refused

PAGE_SIZE = 25
CHOICES: dict[str, dict[str, Any]] = {"sex": dict(Sex.choices), "marital_status": dict(MaritalStatus.choices)}


class HandleForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Kết quả xử lý"), widget=forms.RadioSelect,
        choices=[(CorrectionStatus.HANDLED, _("Đã điều chỉnh trong cơ sở dữ liệu")),
                 (CorrectionStatus.REJECTED, _("Không điều chỉnh (nêu lý do)"))])
    note = forms.CharField(label=_("Ghi chú gửi công dân"), max_length=corrections.MAX_NOTE, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


def _shown(field: str, value: str) -> Any:
    return CHOICES.get(field, {}).get(value, value) or "—"


def _row(row: selectors.Row) -> dict[str, Any]:
    r = row.request
    return {"id": r.pk, "r": r, "citizen": r.citizen, "field": selectors.label_of(r.field),
            "registry_value": _shown(r.field, row.registry_value),
            "filed_value": _shown(r.field, r.current_value),
            "proposed": r.proposed_value}


@officer_required(roles=selectors.READ_ROLES)
def corrections_list(request: HttpRequest) -> HttpResponse:
    try:
        number = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        number = 1
    try:
        page = selectors.open_for_officer(request.actor, page=number, page_size=PAGE_SIZE)  # type: ignore[attr-defined]
    except DomainError as err:
        return _refused(request, err)
    ctx: dict[str, Any] = {"page": page, "rows": [_row(r) for r in page.rows]}
    base = reverse("counter:corrections")
    if page.number > 1:
        ctx["prev_url"] = f"{base}?page={page.number - 1}"
    if page.has_next:
        ctx["next_url"] = f"{base}?page={page.number + 1}"
    return render(request, "publicservices/counter/corrections.html", ctx)


@require_http_methods(["GET", "POST"])
@officer_required(roles=selectors.READ_ROLES)
def correction(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = HandleForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                cd = form.cleaned_data
                corrections.handle_correction(actor, pk, cd["outcome"], cd["note"])
            except DomainError as err:
                if err.status in (403, 404):
                    return _refused(request, err)
                form.add_error(err.field if err.field in form.fields else None, str(err.message))
                status = err.status
            else:
                messages.success(request, _("Đã đóng đề nghị điều chỉnh; công dân đã được thông báo."))
                return redirect("counter:corrections")
        else:
            status = 400
    try:
        row = selectors.for_officer(actor, pk)
    except DomainError as err:
        return _refused(request, err)
    r = row.request
    target = "population:detail" if r.field in selectors.RESIDENCE_FIELDS else "population:correct"
    ctx = {"row": _row(row), "r": r, "form": form, "may_handle": actor.role in WRITE_ROLES,
           "registry_url": reverse(target, args=[r.citizen.personal_id])}
    return render(request, "publicservices/counter/correction.html", ctx, status=status)
