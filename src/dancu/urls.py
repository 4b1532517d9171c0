from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from dancu.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="population:search", permanent=False)),
    path("accounts/", include("dancu.accounts.urls")),
    path("citizens/", include("dancu.population.urls")),
    path("residence/", include("dancu.residence.urls")),
    path("quality/", include("dancu.quality.urls")),
    path("eid/", include("dancu.eid.urls")),
    path("oidc/", include("dancu.oidc.urls")),
    path("relying-parties/", include("dancu.oidc.console")),
    path("eid/consents/", include("dancu.oidc.selfservice")),
    path("mot-cua/", include("dancu.publicservices.counter_urls")),  # one-stop counter (#12)
    path("payments/", include("dancu.payments.urls")),
    path("trao-doi/", include("dancu.exchange.urls")),  # #13: the exchange log with other agencies
    path("chi-so/", include("dancu.kpi.urls")),  # #14: figures, the index, dashboards
    path("to-cong-tac/", include("dancu.workgroups.urls")),  # #14: working groups, tasks, reports
    path("i18n/", include("django.conf.urls.i18n")),
    path("dich-vu-cong/", include("dancu.publicservices.portal.urls")),  # #12: the citizen portal
    path("", include("dancu.documents.urls")),  # /verify/<code>/ (public), /documents/ (citizen)
    path("api/v1/", api.urls),
    # Browsers ask for /favicon.ico on pages without an icon link (the API docs, the admin).
    path("favicon.ico", RedirectView.as_view(url=static("dancu/favicon.ico"), permanent=True)),
]
if settings.DANCU_ADMIN:  # off unless DANCU_ADMIN=1; read-only even then (dancu.accounts.admin)
    urlpatterns.append(path("admin/", admin.site.urls))
