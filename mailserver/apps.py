from django.apps import AppConfig


class MailserverConfig(AppConfig):
    name = "mailserver"
    verbose_name = "Postfix and Dovecot configuration"
