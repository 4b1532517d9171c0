from django.urls import path

from dancu.quality import views

app_name = "quality"
urlpatterns = [
    path("", views.report, name="report"),
    path("tinh-lai", views.recompute, name="recompute"),
    path("report.csv", views.report_csv, name="report_csv"),
    # report.html builds the drill-down links as <report>/<CODE>/ (no reverse per cell)
    path("<str:check_code>/", views.drilldown, name="drilldown"),
    path("<str:check_code>/export.csv", views.drilldown_csv, name="drilldown_csv"),
]
