from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "dancu.demo"
    label = "demo"
    verbose_name = "dancu demo"
