from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PfaConfig(AppConfig):
    name = "pfa"
    verbose_name = "Postfix Admin schema"

    def ready(self) -> None:
        from pfa.derived.sync import after_migrate

        # Once per migrate run (the signal is sent once per app): the derived structures.
        post_migrate.connect(after_migrate, sender=self, dispatch_uid="pfa.derived.sync")
