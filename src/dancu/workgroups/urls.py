from django.urls import URLPattern

app_name = "workgroups"
urlpatterns: list[URLPattern] = []
