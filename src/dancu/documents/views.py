"""Pages: the public verification page (anyone with the code or the QR), the signed-in citizen's
documents and their download. Thin: read through ``selectors``, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dancu.core.net import client_ip
from dancu.documents import selectors
from dancu.documents.models import Document
from dancu.eid import sessions
from dancu.eid.services import citizen_actor

VERDICT_TEXT = {
    selectors.GENUINE: _("Văn bản là thật và chưa bị sửa đổi."),
    selectors.ALTERED: _("Văn bản KHÔNG hợp lệ: nội dung đã bị thay đổi so với bản đã cấp, "
                         "hoặc chữ ký số không hợp lệ."),
    selectors.UNKNOWN: _("Không có văn bản nào được cấp với mã này."),
}


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest, code: str) -> HttpResponse:
    """GET: the verdict on the copy kept at issue. POST with a file: the verdict on that file
    (is it exactly the document issued under this code?)."""
    compared = False
    error = ""
    content: bytes | None = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        limit = selectors.verify_max_bytes()
        if upload is None:
            error = str(_("Hãy chọn tệp cần đối chiếu."))
        elif upload.size is not None and upload.size > limit:
            error = str(_("Tệp quá lớn để đối chiếu."))
        else:
            content = upload.read(limit + 1)
            compared = True
    result = selectors.verify(code, content if compared else None)
    status = 404 if result.verdict == selectors.UNKNOWN else 200
    return render(request, "documents/verify.html", {
        "code": code, "result": result, "verdict_text": VERDICT_TEXT[result.verdict], "compared": compared,
        "error": error, "eid": sessions.current(request)}, status=status)


def _login_redirect(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('eid:login')}?{urlencode({'next': request.get_full_path()})}")


def my_documents(request: HttpRequest) -> HttpResponse:
    current = sessions.current(request)
    if current is None:
        return _login_redirect(request)
    documents = selectors.documents_of(current.account.citizen)[:200]
    return render(request, "documents/mine.html", {"documents": documents, "eid": current})


def download(request: HttpRequest, code: str) -> HttpResponse:
    """The owner's download of one of their documents; anyone else gets 404 (as for a code that
    does not exist: nothing tells whose a code is)."""
    current = sessions.current(request)
    if current is None:
        return _login_redirect(request)
    actor = citizen_actor(current.account.personal_id, user_id=current.account.user_id, ip=client_ip(request))
    document: Document | None = selectors.download_for_owner(actor, current.account.citizen_id, code)
    if document is None:
        raise Http404
    response = HttpResponse(bytes(document.content), content_type=document.media_type)
    response["Content-Disposition"] = f'attachment; filename="{document.code}.{document.extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
