"""The citizen portal: /dich-vu-cong/."""

from django.urls import path

from dancu.publicservices.portal import views, views_auth

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("dang-nhap/", views_auth.login, name="login"),
    path("dang-nhap/xong/", views_auth.callback, name="callback"),
    path("dang-xuat/", views_auth.logout, name="logout"),
    path("ho-so/", views.dossiers, name="dossiers"),
    path("thong-bao/", views.inbox, name="inbox"),
]
