"""Outgoing e-mail: one sending path for every mail, and the links that mails carry."""
