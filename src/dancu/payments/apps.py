from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "dancu.payments"
    label = "payments"
    verbose_name = "Online payment"

    def ready(self) -> None:
        from dancu.payments import tasks  # noqa: F401  (registers the reconciliation job)
