"""Bulk actions on the mailbox, alias and domain lists: select, confirm, apply in one go."""
