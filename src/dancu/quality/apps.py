from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "dancu.quality"
    label = "quality"
    verbose_name = "Data quality"
