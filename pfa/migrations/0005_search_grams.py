"""Add the MariaDB/MySQL trigram search tables of pfa.derived.search_grams, only to a fresh schema.

Only when this same migrate run created the Postfix Admin schema (see 0002): an adopted
database gets them from `manage.py optimize_indexes --search --apply` only. Where the database
user may not create triggers (no TRIGGER privilege, or binary logging without SUPER), the
tables are not created, a notice says so and `migrate` goes on: searches then read the rows.
"""

import sys

from django.db import DatabaseError, migrations


def add_on_fresh_schema(apps, schema_editor):
    from pfa.derived import search_grams
    from pfa.schema import created_fresh

    connection = schema_editor.connection
    if not search_grams.supported(connection) or not created_fresh(connection):
        return
    try:
        search_grams.install(connection)
    except DatabaseError as exc:
        search_grams.remove(connection)
        sys.stdout.write(
            "\n  Notice: the search tables were not created: the database refused their "
            f"triggers ({str(exc).strip()}). Searches work, but read whole domains. See "
            "`manage.py optimize_indexes --search`.\n"
        )


class Migration(migrations.Migration):
    dependencies = [("pfa", "0004_kept_tables")]

    operations = [migrations.RunPython(add_on_fresh_schema, migrations.RunPython.noop)]
