"""Add the trigram search indexes of pfa.derived.indexes, only to a schema this same migrate run created.

PostgreSQL only, and only where the pg_trgm extension exists or may be created by the migrating
user: without it the indexes are skipped with a notice and `migrate` goes on (the searches work,
only slower); `manage.py optimize_indexes --search` explains what to do later. An adopted
Postfix Admin database is never altered by a migration (see 0002).
"""

import sys

from django.db import DatabaseError, migrations, transaction


def add_on_fresh_schema(apps, schema_editor):
    from pfa.derived.indexes import CREATE_EXTENSION_SQL, has_trigram_extension, missing_search
    from pfa.schema import created_fresh

    connection = schema_editor.connection
    if connection.vendor != "postgresql" or not created_fresh(connection):
        return
    if not has_trigram_extension(connection):
        try:
            # A savepoint: a refused CREATE EXTENSION must not abort the migration's transaction.
            with transaction.atomic(using=connection.alias):
                schema_editor.execute(CREATE_EXTENSION_SQL)
        except DatabaseError as exc:
            sys.stdout.write(
                "\n  Notice: the search indexes were not created: the database user may not "
                f"create the pg_trgm extension ({str(exc).strip()}). Searches work, but read "
                "whole domains. See `manage.py optimize_indexes --search`.\n"
            )
            return
    for index in missing_search(connection):
        schema_editor.execute(index.create_sql(connection))


class Migration(migrations.Migration):
    dependencies = [("pfa", "0002_list_indexes")]

    operations = [migrations.RunPython(add_on_fresh_schema, migrations.RunPython.noop)]
