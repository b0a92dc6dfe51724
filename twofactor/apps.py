from django.apps import AppConfig


class TwofactorConfig(AppConfig):
    name = "twofactor"
    verbose_name = "Two-factor logins and app passwords"

    def ready(self) -> None:
        # Connects the receiver that records which policy a new admin session was checked
        # against (before any request, so Django's login() outside a request is covered too).
        from twofactor import flows  # noqa: F401
