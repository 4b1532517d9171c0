"""The citizen portal: /dich-vu-cong/."""

from django.urls import path

from dancu.publicservices.portal import views, views_auth

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("dang-nhap/", views_auth.login, name="login"),
    path("dang-nhap/xong/", views_auth.callback, name="callback"),
    path("dang-xuat/", views_auth.logout, name="logout"),
    path("thu-tuc/<slug:slug>/", views.procedure, name="procedure"),
    path("thu-tuc/<slug:slug>/nop/", views.apply, name="apply"),
    path("thu-tuc/<slug:slug>/bao-sai/", views.report_error, name="report-error"),
    path("ho-so/", views.dossiers, name="dossiers"),
    path("ho-so/<str:code>/", views.dossier, name="dossier"),
    path("ho-so/<str:code>/bien-nhan/", views.receipt, name="receipt"),
    path("ho-so/<str:code>/thanh-toan/", views.pay, name="pay"),
    path("ho-so/<str:code>/da-thanh-toan/", views.paid, name="paid"),
    path("ho-so/<str:code>/ket-qua/", views.result, name="result"),
    path("thong-bao/", views.inbox, name="inbox"),
]
