from django.apps import AppConfig


class Vimbadmin3Config(AppConfig):
    name = "vimbadmin3"
    verbose_name = "Import from ViMbAdmin 3"
    default_auto_field = "django.db.models.AutoField"
