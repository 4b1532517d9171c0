from django.urls import path

from dancu.payments import views

app_name = "payments"
urlpatterns = [
    path("ipn", views.ipn, name="ipn"),
    path("return", views.return_view, name="return"),
    path("<str:txn_ref>/receipt", views.receipt, name="receipt"),
]
