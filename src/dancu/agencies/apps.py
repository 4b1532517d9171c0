from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "dancu.agencies"
    label = "agencies"
    verbose_name = "Agency stand-ins"
