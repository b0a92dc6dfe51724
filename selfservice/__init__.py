"""Mailbox owners' self-service: their own login, overview, password change and reset.

The owner's login lives in the session next to (never instead of) an admin login; it is not a
Django auth login, so `request.user` stays anonymous for an owner and admin pages stay closed.
"""
