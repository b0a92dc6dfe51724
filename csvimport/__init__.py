"""CSV import of domains, mailboxes and aliases: read, plan (the dry run), apply."""
