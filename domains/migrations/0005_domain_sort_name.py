"""The domain counters' row keeps the key a domain is listed by (mail.names.domain_sort_key),
in a collation that compares code points, the same on every engine: PostgreSQL's "C", MariaDB's
utf8mb4_bin, SQLite's BINARY (its default), and indexed (768 characters: the most MariaDB
indexes in utf8mb4). Postfix Admin's domain table stays as it is.

Added with its collation in one statement (a later MODIFY would copy the table again on
MariaDB, whose DDL commits by itself anyway), then filled for the rows already there.
"""

from django.db import migrations, models

from mail.names import domain_sort_key

_COLUMN = {
    "postgresql": 'varchar(768) COLLATE "C" NULL',
    "mysql": "varchar(768) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL",
}


def add_column(apps, schema_editor):
    connection = schema_editor.connection
    column = _COLUMN.get(connection.vendor, "varchar(768) NULL")
    q = connection.ops.quote_name
    schema_editor.execute(
        f"ALTER TABLE {q('vimbadmin_domain_stats')} ADD COLUMN {q('sort_name')} {column}"
    )


def drop_column(apps, schema_editor):
    q = schema_editor.connection.ops.quote_name
    schema_editor.execute(f"ALTER TABLE {q('vimbadmin_domain_stats')} DROP COLUMN {q('sort_name')}")


def fill(apps, schema_editor):
    counters = apps.get_model("domains", "DomainCounters")
    rows = counters.objects.using(schema_editor.connection.alias)
    names = list(rows.values_list("domain_id", flat=True))
    for start in range(0, len(names), 500):
        chunk = [
            counters(domain_id=name, sort_name=domain_sort_key(name))
            for name in names[start : start + 500]
        ]
        rows.bulk_update(chunk, ["sort_name"])


class Migration(migrations.Migration):

    dependencies = [
        ("domains", "0004_domain_settings_language"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="domaincounters",
                    name="sort_name",
                    field=models.CharField(max_length=768, null=True),
                ),
            ],
            database_operations=[migrations.RunPython(add_column, drop_column)],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="domaincounters",
            index=models.Index(fields=["sort_name"], name="vimbadmin_domain_sort_name"),
        ),
    ]
