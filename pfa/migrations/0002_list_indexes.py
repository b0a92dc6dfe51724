"""Empty since the derived structures moved to pfa.derived.sync (run after every `migrate`).

This migration once added the list indexes to a schema created in the same run by importing
the app's code, so what it did changed with that code. It stays, empty, so that databases that
applied it and new ones share one history; the indexes now come from the versioned sync.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("pfa", "0001_initial")]

    operations = []
