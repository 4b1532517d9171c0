from django.apps import AppConfig


class EidConfig(AppConfig):
    name = "dancu.eid"
    label = "eid"
    verbose_name = "Định danh điện tử"

    def ready(self) -> None:
        from dancu.eid import receivers  # noqa: F401  (connects the registry's signals)
