from django.urls import path

from dancu.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/second-factor/", views.second_factor, name="second_factor"),
    path("logout/", views.OfficerLogoutView.as_view(), name="logout"),
    path("officers/", views.officer_list, name="officers"),
    path("officers/new/", views.officer_new, name="officer_new"),
    path("officers/<int:profile_id>/", views.officer_edit, name="officer_edit"),
    path("officers/<int:profile_id>/status/", views.officer_status, name="officer_status"),
    path("officers/<int:profile_id>/password/", views.officer_password, name="officer_password"),
]
