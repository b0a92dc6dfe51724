"""Add the list-page indexes of pfa.derived.indexes, but only to a schema this same migrate run created.

An adopted Postfix Admin database is never altered by a migration: its operator adds these
indexes with `manage.py optimize_indexes --apply` if they want them.
"""

from django.db import migrations


def add_on_fresh_schema(apps, schema_editor):
    from pfa.derived.indexes import missing
    from pfa.schema import created_fresh

    connection = schema_editor.connection
    if not created_fresh(connection):
        return
    for index in missing(connection):
        schema_editor.execute(index.create_sql(connection))


class Migration(migrations.Migration):
    dependencies = [("pfa", "0001_initial")]

    operations = [migrations.RunPython(add_on_fresh_schema, migrations.RunPython.noop)]
