"""Auth events become one counted row per kind, account, address and hour; throttle counters."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import Count, F, Max, Min, Sum


def one_hour_row_per_old_row(apps, schema_editor):
    # Each earlier row keeps its own moment as its hour; rows that share one are merged.
    AuthEvent = apps.get_model("accounts", "AuthEvent")
    AuthEvent.objects.update(last_seen=F("timestamp"), hour=F("timestamp"))
    key = ("realm", "kind", "username", "client_address", "hour")
    shared = (
        AuthEvent.objects.values(*key)
        .annotate(rows=Count("id"), total=Sum("count"), first=Min("id"))
        .filter(rows__gt=1)
    )
    for group in shared.iterator():
        same = AuthEvent.objects.filter(**{name: group[name] for name in key})
        same.exclude(id=group["first"]).delete()
        same.update(count=group["total"])


class Migration(migrations.Migration):

    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="authevent",
            name="count",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="authevent",
            name="last_seen",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="authevent",
            name="hour",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(one_hour_row_per_old_row, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="authevent",
            name="last_seen",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="authevent",
            name="hour",
            field=models.DateTimeField(),
        ),
        migrations.AddConstraint(
            model_name="authevent",
            constraint=models.UniqueConstraint(
                fields=("realm", "kind", "username", "client_address", "hour"),
                name="vimb_authev_hour_uniq",
            ),
        ),
        migrations.CreateModel(
            name="ThrottleCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("realm", models.CharField(choices=[("admin", "admin"), ("mailbox", "mailbox owner")], max_length=10)),
                ("action", models.CharField(choices=[("login", "login"), ("reset", "password reset")], max_length=10)),
                ("scope", models.CharField(choices=[("pair", "account from one address"), ("account", "account"), ("address", "client address")], max_length=10)),
                ("username", models.CharField(blank=True, max_length=255)),
                ("client_address", models.CharField(blank=True, max_length=45)),
                ("failures", models.PositiveIntegerField(default=0)),
                ("last_failure", models.DateTimeField(blank=True, null=True)),
                ("last_success", models.DateTimeField(blank=True, null=True)),
                ("updated", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
            options={
                "db_table": "vimbadmin_auth_throttle",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("realm", "action", "scope", "username", "client_address"),
                        name="vimb_throttle_key_uniq",
                    )
                ],
            },
        ),
    ]
