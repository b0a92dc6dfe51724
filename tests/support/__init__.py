"""Helpers that several test modules share; test modules never import one another.

- `tools`: `require_tool()`, which fails a test whose real tool is missing.
- `pfa_tables`: emptying Postfix Admin's tables, rows written as another tool would.
- `race`: two requests at the same moment on their own connections.
- `mailtools`: outgoing mail, failing SMTP servers.
- `mailstack`: a private Postfix and Dovecot on loopback.
- `pfa_genuine`: databases built by Postfix Admin's own PHP.
- `vimbadmin3`: genuine ViMbAdmin 3 databases, filled as ViMbAdmin writes them.
- `urlwalk`: every routed URL, for the walks over all pages.
- `commands`: management commands run in-process (`run`, `run_json`, `refused`).
- `totp`: TOTP codes as an authenticator app computes them (RFC 6238).
"""
