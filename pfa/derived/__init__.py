"""Everything the database keeps for the project beside Postfix Admin's tables.

- indexes: the lists' extra indexes and PostgreSQL's trigram search indexes;
- triggers: the base of the trigger-maintained tables (MariaDB/MySQL), which are
  alias_listed (the alias list's keys) and search_grams (the search index);
- sync: what `migrate` installs or upgrades after every run.

`manage.py install_derived` lists, prints, installs and removes all of them.
"""

from pfa.derived.alias_listed import ALIAS_LISTED
from pfa.derived.search_grams import SEARCH_TABLES
from pfa.derived.triggers import TriggerTable

# Every trigger-maintained structure, in install order.
TRIGGER_TABLES: tuple[TriggerTable, ...] = (ALIAS_LISTED, SEARCH_TABLES)
