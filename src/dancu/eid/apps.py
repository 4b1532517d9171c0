from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EidConfig(AppConfig):
    name = "dancu.eid"
    label = "eid"
    verbose_name = _("Định danh điện tử")

    def ready(self) -> None:
        from dancu.eid import receivers  # connects the registry's signals

        receivers.replace_last_login_receiver()
