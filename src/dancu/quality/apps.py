from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "dancu.quality"
    label = "quality"
    verbose_name = "Data quality"

    def ready(self) -> None:
        from dancu.quality import tasks  # noqa: F401  (registers the periodic job)
