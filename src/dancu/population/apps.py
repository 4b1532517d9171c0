from django.apps import AppConfig


class PopulationConfig(AppConfig):
    name = "dancu.population"
    label = "population"
    verbose_name = "Population registry"

    def ready(self) -> None:
        from dancu.population import tasks  # noqa: F401  (hourly close of abandoned imports)
