from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dancu.audit"
    label = "audit"
    verbose_name = "Audit trail and history"

    def ready(self) -> None:
        from dancu.audit import append_only  # noqa: F401  (registers the SQLite function)
