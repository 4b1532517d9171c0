from django.urls import path

from dancu.exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.log, name="log"),
    path("<str:message_id>/", views.message, name="message"),
]
