from django.apps import AppConfig


class PfaConfig(AppConfig):
    name = "pfa"
    verbose_name = "Postfix Admin schema"
