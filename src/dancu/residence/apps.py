from django.apps import AppConfig


class ResidenceConfig(AppConfig):
    name = "dancu.residence"
    label = "residence"
    verbose_name = "Residence"

    def ready(self) -> None:
        from dancu.residence import tasks  # noqa: F401  (the daily expiry of temporary residence)
