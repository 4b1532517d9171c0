from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "dancu.documents"
    label = "documents"
    verbose_name = "Electronic documents"
