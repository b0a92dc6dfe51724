"""Install the trigger-kept tables of pfa.derived.kept, only on a schema this same migrate run created.

MariaDB/MySQL only. Where the migrating user may not create triggers (no TRIGGER privilege, or
binary logging without SUPER and log_bin_trust_function_creators), the tables are skipped with
a notice, nothing of them is left behind, and `migrate` goes on: the lists work, only slower;
`manage.py optimize_indexes` shows what is missing and installs it later. An adopted Postfix
Admin database is never altered by a migration (see 0002): its operator runs
`manage.py optimize_indexes --apply`.

Not atomic: each kept table's fill commits in transactions of its own (see KeptTable.install),
and MySQL commits every CREATE TABLE or CREATE TRIGGER anyway.
"""

import sys

from django.db import DatabaseError, migrations


def install_on_fresh_schema(apps, schema_editor):
    from pfa.derived import kept
    from pfa.schema import created_fresh

    connection = schema_editor.connection
    if not created_fresh(connection):
        return
    for table in kept.missing(connection):
        try:
            table.install(connection)
        except DatabaseError as exc:
            sys.stdout.write(
                f"\n  Notice: {table.name} was not created: the database refused its triggers "
                f"({str(exc).strip()}). Lists work, but slower on large domains. See "
                "`manage.py optimize_indexes`.\n"
            )


class Migration(migrations.Migration):
    dependencies = [("pfa", "0003_search_indexes")]

    operations = [
        migrations.RunPython(install_on_fresh_schema, migrations.RunPython.noop, atomic=False)
    ]
