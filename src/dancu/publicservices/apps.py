from django.apps import AppConfig


class PublicServicesConfig(AppConfig):
    name = "dancu.publicservices"
    label = "publicservices"
    verbose_name = "Online public services"

    def ready(self) -> None:
        from dancu.publicservices import (  # noqa: F401  (signal receivers; the daily reminders)
            receivers,
            tasks,
        )
