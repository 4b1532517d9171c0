"""The working-group pages, under /to-cong-tac/ (``views.py``)."""

from django.urls import path

from dancu.workgroups import views

app_name = "workgroups"
urlpatterns = [
    path("", views.group_list, name="list"),
    path("lap-to/", views.group_create, name="create"),
    path("<int:pk>/", views.group_detail, name="group"),
    path("<int:pk>/sua/", views.group_edit, name="edit"),
    path("<int:pk>/thanh-vien/them/", views.member_form, name="member_add"),
    path("<int:pk>/thanh-vien/<int:member_id>/", views.member_form, name="member_edit"),
    path("<int:pk>/ke-hoach/them/", views.plan_form, name="plan_add"),
    path("<int:pk>/ke-hoach/<int:plan_id>/", views.plan_form, name="plan_edit"),
    path("<int:pk>/ke-hoach/<int:plan_id>/nhiem-vu/them/", views.task_form, name="task_add"),
    path("<int:pk>/nhiem-vu/<int:task_id>/", views.task_form, name="task_edit"),
    path("<int:pk>/nhiem-vu/<int:task_id>/hoan-thanh/", views.task_done, name="task_done"),
    path("<int:pk>/nhiem-vu/<int:task_id>/minh-chung/", views.task_evidence, name="task_evidence"),
    path("<int:pk>/so-lieu-nhap-tay/them/", views.manual_form, name="manual_add"),
    path("<int:pk>/bao-cao/", views.reports, name="reports"),
    path("<int:pk>/bao-cao/<int:report_id>.<str:fmt>", views.report_download, name="report_download"),
    path("<int:pk>/bao-cao/<int:report_id>/dinh-chinh/", views.report_correct, name="report_correct"),
]
