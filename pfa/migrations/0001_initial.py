from django.db import migrations, models
import django.utils.timezone


def create_or_adopt(apps, schema_editor):
    from pfa.schema import SchemaError, ensure_schema

    try:
        ensure_schema(schema_editor.connection)
    except SchemaError as exc:
        raise RuntimeError(str(exc)) from None


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        # Postfix Admin's own tables: created on an empty database, never altered on an adopted one.
        migrations.RunPython(create_or_adopt, migrations.RunPython.noop),
        migrations.CreateModel(
            name="Config",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(default="", max_length=20, unique=True)),
                ("value", models.CharField(default="", max_length=20)),
            ],
            options={"db_table": "config", "managed": False},
        ),
        migrations.CreateModel(
            name="Log",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("timestamp", models.DateTimeField(default=django.utils.timezone.now)),
                ("username", models.CharField(default="", max_length=255)),
                ("domain", models.CharField(default="", max_length=255)),
                ("action", models.CharField(default="", max_length=255)),
                ("data", models.TextField(default="")),
            ],
            options={"db_table": "log", "managed": False},
        ),
        migrations.CreateModel(
            name="Quota2",
            fields=[
                ("username", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("bytes", models.BigIntegerField(default=0)),
                ("messages", models.IntegerField(default=0)),
            ],
            options={"db_table": "quota2", "managed": False},
        ),
        migrations.CreateModel(
            name="Vacation",
            fields=[
                ("email", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("subject", models.CharField(max_length=255)),
                ("body", models.TextField(default="")),
                ("domain", models.CharField(max_length=255, null=True)),
                ("interval_time", models.IntegerField(default=0)),
                ("activefrom", models.DateTimeField(null=True)),
                ("activeuntil", models.DateTimeField(null=True)),
                ("created", models.DateTimeField(default=django.utils.timezone.now)),
                ("modified", models.DateTimeField(default=django.utils.timezone.now)),
                ("active", models.BooleanField(default=True)),
            ],
            options={"db_table": "vacation", "managed": False},
        ),
        migrations.CreateModel(
            name="VacationNotification",
            fields=[
                ("pk", models.CompositePrimaryKey("on_vacation", "notified", blank=True, editable=False, primary_key=True, serialize=False)),
                ("on_vacation", models.CharField(max_length=255)),
                ("notified", models.CharField(default="", max_length=255)),
                ("notified_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={"db_table": "vacation_notification", "managed": False},
        ),
    ]
