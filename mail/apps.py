from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = "Outgoing e-mail"

    def ready(self) -> None:
        # Registers the VIMBADMIN_BASE_URL system check.
        from mail import links  # noqa: F401
