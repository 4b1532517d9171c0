from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "dancu.quality"
    label = "quality"
    verbose_name = "Data quality"

    def ready(self) -> None:
        from dancu.quality import (  # noqa: F401  (the change marks' receivers; the periodic job)
            receivers,
            tasks,
        )
