"""The log page over Postfix Admin's log table."""
