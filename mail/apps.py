from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "mail"
    verbose_name = "Outgoing e-mail"

    def ready(self) -> None:
        # Registers the VIMBADMIN_BASE_URL and VIMBADMIN_PFA_ENCRYPT system checks.
        from mail import links, pfa_encrypt  # noqa: F401
