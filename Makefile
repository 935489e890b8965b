# The two commands the README promises: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install openapi bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The API and the scheduler together (Ctrl-C stops both); the demo fires every job every EVERY seconds
# instead of on its daily or per-minute schedule, so its work shows at once. EVERY= (empty): real schedules.
# A development server: webhooks may target 127.0.0.1 here (LOYALTY_WEBHOOK_ALLOW_PRIVATE, never in production).
EVERY ?= 10
run: $(STAMP)
	$(BIN)/loyalty db upgrade
	$(BIN)/loyalty demo --admin-key-file var/demo-admin-key
	@echo "serving on http://$(HOST):$(PORT)  (docs: http://$(HOST):$(PORT)/docs)"
	@echo "scheduler: $(if $(EVERY),every job every $(EVERY) s,every job on its schedule); Ctrl-C stops both"
	LOYALTY_WEBHOOK_ALLOW_PRIVATE=$${LOYALTY_WEBHOOK_ALLOW_PRIVATE:-true} \
	$(BIN)/loyalty serve --host $(HOST) --port $(PORT) --with-scheduler $(if $(EVERY),--every-seconds $(EVERY))

# The whole suite on SQLite, then again on PostgreSQL when LOYALTY_TEST_POSTGRES_URL is set.
# Both always run (a SQLite failure must not hide the PostgreSQL result); the target fails at the end
# if either did. The browser tests (tests/browser) drive Debian's chromium, installed here when missing
# with a Chinese font for the screenshots; they leave screenshots of the main pages in
# var/screenshots/<database>/ (LOYALTY_SCREENSHOTS=docs/screenshots renews the README's too).
BROWSER_PACKAGES := chromium fonts-wqy-microhei
# The TypeScript client check (tests/clients/test_typescript_client.py) needs Node.js and the locked
# packages: Debian's nodejs and npm when npm is missing; npm ci again only when the lock changes.
TS_CLIENT := tests/clients/typescript
test: lint $(STAMP) $(TS_CLIENT)/node_modules/.package-lock.json
	command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || apt-get install -y $(BROWSER_PACKAGES) >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y $(BROWSER_PACKAGES)) \
		|| (sudo apt-get update -qq && sudo apt-get install -y $(BROWSER_PACKAGES))
	@sqlite=0; postgres=0; \
	LOYALTY_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS) || sqlite=$$?; \
	if [ -n "$$LOYALTY_TEST_POSTGRES_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		LOYALTY_TEST_DB=postgres $(BIN)/python -m pytest $(PYTEST_ARGS) || postgres=$$?; \
	else echo "LOYALTY_TEST_POSTGRES_URL not set: PostgreSQL run skipped"; fi; \
	echo "== SQLite: $$([ $$sqlite = 0 ] && echo passed || echo "FAILED ($$sqlite)")," \
	     "PostgreSQL: $$([ -z "$$LOYALTY_TEST_POSTGRES_URL" ] && echo skipped || ([ $$postgres = 0 ] && echo passed || echo "FAILED ($$postgres)")) =="; \
	[ $$sqlite = 0 ] && [ $$postgres = 0 ]

$(TS_CLIENT)/node_modules/.package-lock.json: $(TS_CLIENT)/package-lock.json $(TS_CLIENT)/package.json
	command -v npm >/dev/null || apt-get install -y nodejs npm >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y nodejs npm) \
		|| (sudo apt-get update -qq && sudo apt-get install -y nodejs npm)
	cd $(TS_CLIENT) && npm ci --no-audit --no-fund

# Style, types and layers (ARCHITECTURE.md): ruff, mypy (strict on core and every rules.py), import-linter.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

openapi: $(STAMP)
	$(BIN)/loyalty openapi write

# Needs PostgreSQL (LOYALTY_BENCH_POSTGRES_URL, default the local test database) and wrk. Every issue 17
# figure, the median of BENCH_REPEAT (3) runs at BENCH_MEMBERS (1,000,000), into bench/RESULTS.md.
# A quick check: BENCH_MEMBERS=20000 BENCH_REPEAT=1 make bench.
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get install -y wrk >/dev/null 2>&1 || sudo apt-get install -y wrk)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .hypothesis
