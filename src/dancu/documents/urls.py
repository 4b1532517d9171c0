"""The public verification page, and the citizen's own documents (mounted at the site's root)."""

from django.urls import path

from dancu.documents import views

app_name = "documents"
urlpatterns = [
    path("verify/<str:code>/", views.verify_page, name="verify"),
    path("documents/", views.my_documents, name="mine"),
    path("documents/<str:code>/download", views.download, name="download"),
]
