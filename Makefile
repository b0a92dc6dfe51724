.PHONY: run test lint bench

# Set up and run the app on http://127.0.0.1:8000 with SQLite; prints the demo login.
run:
	scripts/run-dev.sh

# Set up everything (Debian packages, virtualenv, databases) and run the whole test suite.
test:
	scripts/test-all.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	.venv/bin/python bench/run.py --size $(or $(SIZE),S) --engine $(or $(ENGINE),postgresql)
