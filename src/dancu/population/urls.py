from django.urls import path

from dancu.population import views

app_name = "population"
urlpatterns = [
    path("", views.search, name="search"),
    path("new/", views.create, name="create"),
    path("<str:personal_id>/", views.detail, name="detail"),
    path("<str:personal_id>/correct/", views.correct, name="correct"),
]
