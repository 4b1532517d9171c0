from django.apps import AppConfig


class PublicServicesConfig(AppConfig):
    name = "dancu.publicservices"
    label = "publicservices"
    verbose_name = "Online public services"

    def ready(self) -> None:
        from dancu.publicservices import receivers  # noqa: F401  (connects the signal receivers)
