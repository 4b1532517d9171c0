from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dancu.audit"
    label = "audit"
    verbose_name = "Audit trail and history"

    def ready(self) -> None:
        from dancu.audit import receivers  # noqa: F401  (records the accounts context's changes)
