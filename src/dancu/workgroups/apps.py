from django.apps import AppConfig


class WorkgroupsConfig(AppConfig):
    name = "dancu.workgroups"
    label = "workgroups"
    verbose_name = "Working groups and reports"
