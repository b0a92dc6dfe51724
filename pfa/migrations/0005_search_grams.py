"""Empty since the derived structures moved to pfa.derived.sync (run after every `migrate`).

This migration once installed MariaDB's search tables on a schema created in the same run; see
0002 for why it is empty now.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("pfa", "0004_kept_tables")]

    operations = []
