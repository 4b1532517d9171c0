from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "dancu.oidc"
    label = "oidc"
    verbose_name = "Dịch vụ xác thực điện tử (OpenID Connect)"

    def ready(self) -> None:
        from dancu.oidc import receivers  # noqa: F401  (revokes tokens when an e-ID account closes)
