from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dancu.accounts"
    label = "accounts"
    verbose_name = "Officers and service accounts"
