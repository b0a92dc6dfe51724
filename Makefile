.PHONY: run test lint bench screenshots

# Set up and run the app on http://127.0.0.1:8000 with SQLite; prints the demo login.
run:
	scripts/run-dev.sh

# Set up everything (Debian packages, virtualenv, databases) and run the whole test suite.
test:
	scripts/test-all.sh

# ruff, the layers contract (import-linter, pyproject.toml) and mypy against mypy-baseline.txt.
lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-logo
	.venv/bin/python scripts/mypy_baseline.py

bench:
	.venv/bin/python bench/run.py --size $(or $(SIZE),S) --engine $(or $(ENGINE),postgresql)

# The screenshots under docs/screenshots/ (every main page at 1280 and 390 px, light and dark).
screenshots:
	.venv/bin/python scripts/screenshots.py
