"""DomainStats is called DomainCounters, its reverse accessor `counters`; the table keeps its
name (vimbadmin_domain_stats), so the database is not touched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("domains", "0002_domain_stats"),
    ]

    operations = [
        migrations.RenameModel(old_name="DomainStats", new_name="DomainCounters"),
        migrations.AlterField(
            model_name="domaincounters",
            name="domain",
            field=models.OneToOneField(
                db_column="domain",
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                primary_key=True,
                related_name="counters",
                serialize=False,
                to="domains.domain",
            ),
        ),
    ]
