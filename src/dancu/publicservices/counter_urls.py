"""The one-stop counter and officer processing pages, under /mot-cua/ (``views/counter.py``)."""

from django.urls import path

from dancu.publicservices.views import corrections, counter

app_name = "counter"
urlpatterns = [
    path("", counter.queue, name="queue"),
    path("tiep-nhan/", counter.intake, name="intake"),
    path("dieu-chinh/", corrections.corrections_list, name="corrections"),  # "báo sai" requests
    path("dieu-chinh/<int:pk>/", corrections.correction, name="correction"),
    path("ho-so/<str:code>/", counter.dossier, name="dossier"),
    path("ho-so/<str:code>/bien-nhan/", counter.receipt, name="receipt"),
    path("ho-so/<str:code>/tai-lieu/<int:component_id>/", counter.component, name="component"),
    path("ho-so/<str:code>/buoc/<slug:key>/", counter.step_decision, name="step_decision"),
    path("ho-so/<str:code>/<slug:action>/", counter.act, name="act"),
]
