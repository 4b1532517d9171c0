from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "dancu.payments"
    label = "payments"
    verbose_name = "Online payment"
