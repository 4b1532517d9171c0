from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dancu.core"
    label = "core"
    verbose_name = "dancu core"
