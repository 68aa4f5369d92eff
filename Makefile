# The two commands of the quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install lint browser loadtest bench-rules bench-earn clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Migrate an SQLite file here, load the demo, serve on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/loyalty demo

## The whole test suite (PostgreSQL too when LOYALTY_TEST_DATABASE_URL is set)
test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Headless Chromium for the browser tests (Debian package; needs root, skipped otherwise)
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium not installed: browser tests will be skipped"; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy loyalty rules portal admin
	$(BIN)/mypy --explicit-package-bases loadtests

loadtest: $(STAMP)
	$(BIN)/python loadtests/run_loadtest.py

bench-rules: $(STAMP)
	$(BIN)/python loadtests/bench_rules.py

bench-earn: $(STAMP)
	$(BIN)/python loadtests/bench_earn.py

clean:
	rm -rf $(VENV) loyalty.db loyalty.db-wal loyalty.db-shm mail
