"""Everything the database keeps for us: trigger-maintained tables and indexes."""
