from django.apps import AppConfig


class ResidenceConfig(AppConfig):
    name = "dancu.residence"
    label = "residence"
    verbose_name = "Residence"

    def ready(self) -> None:
        from django.core.signals import request_started

        from dancu.residence.expiry import sweep_if_due

        # expiry of temporary residence, on the first request of each day (see residence.expiry)
        request_started.connect(sweep_if_due, dispatch_uid="residence.expiry")
