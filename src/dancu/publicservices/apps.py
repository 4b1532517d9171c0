from django.apps import AppConfig


class PublicServicesConfig(AppConfig):
    name = "dancu.publicservices"
    label = "publicservices"
    verbose_name = "Online public services"
