from django.apps import AppConfig


class PopulationConfig(AppConfig):
    name = "dancu.population"
    label = "population"
    verbose_name = "Population registry"
