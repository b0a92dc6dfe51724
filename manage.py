#!/usr/bin/env python
"""Run Django management commands for ViMbAdmin from a checkout (installed: `vimbadmin`)."""

from vimbadmin.cli import main

if __name__ == "__main__":
    main()
