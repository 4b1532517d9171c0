from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "dancu.exchange"
    label = "exchange"
    verbose_name = "Exchange with other agencies"
