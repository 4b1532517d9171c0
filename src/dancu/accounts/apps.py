from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dancu.accounts"
    label = "accounts"
    verbose_name = "Officers and service accounts"

    def ready(self) -> None:
        # django.contrib.admin (listed before the dancu apps) has imported every admin module
        from django.contrib import admin

        from dancu.accounts.admin import lock_down

        lock_down(admin.site)
