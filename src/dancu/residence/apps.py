from django.apps import AppConfig


class ResidenceConfig(AppConfig):
    name = "dancu.residence"
    label = "residence"
    verbose_name = "Residence"
