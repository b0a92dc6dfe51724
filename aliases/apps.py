from django.apps import AppConfig


class AliasesConfig(AppConfig):
    name = "aliases"
