from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "dancu.geo"
    label = "geo"
    verbose_name = "Administrative units"
