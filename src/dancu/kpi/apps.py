from django.apps import AppConfig


class KpiConfig(AppConfig):
    name = "dancu.kpi"
    label = "kpi"
    verbose_name = "KPIs and the service index"
