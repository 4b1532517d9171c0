from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OidcConfig(AppConfig):
    name = "dancu.oidc"
    label = "oidc"
    verbose_name = _("Dịch vụ xác thực điện tử (OpenID Connect)")

    def ready(self) -> None:
        from dancu.oidc import (
            receivers,  # noqa: F401  (revokes tokens when an e-ID account closes)
            tasks,  # noqa: F401  (the daily prune)
        )
