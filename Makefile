# The two set-up commands of the README: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)
export GX_ANALYTICS_ENABLED := False

.PHONY: install delta-client demo test lint bench bench-names bench-collect bench-api bench-e2e clean system-packages

$(STAMP): requirements.lock pyproject.toml
	@echo "installing into $(VENV) from requirements.lock (first time: about 2-3 minutes)…"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -r requirements.lock
	@$(BIN)/python -m pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

# The official Delta Sharing client pins pandas < 3 and pyarrow <= 23: its test runs it from
# a virtualenv of its own (tests/api/test_delta_sharing_client.py writes the same stamp).
DELTA_VENV := .venv-delta
DELTA_STAMP := $(DELTA_VENV)/.installed-delta-sharing-1.4.2

$(DELTA_STAMP):
	@echo "installing the Delta Sharing client for its test into $(DELTA_VENV) (first time only)…"
	@test -x $(DELTA_VENV)/bin/python || $(PYTHON) -m venv $(DELTA_VENV)
	@$(DELTA_VENV)/bin/python -m pip install -q delta-sharing==1.4.2
	@touch $(DELTA_STAMP)

delta-client: $(DELTA_STAMP)

demo: install
	@$(BIN)/yishu demo

lint: install
	@$(BIN)/ruff check plugins dags tests scripts
	@$(BIN)/python scripts/import_cycles.py --sizes

# The tests use a real PostgreSQL server, a Redis broker (the CeleryExecutor test) and a real
# browser: Debian's postgresql, redis-server and chromium (the tests start the servers
# themselves, on a unix socket and a free loopback port; Playwright drives /usr/bin/chromium).
system-packages:
	@need=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	test -x /usr/bin/redis-server || need="$$need redis-server"; \
	test -x /usr/bin/chromium || need="$$need chromium"; \
	ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || need="$$need fonts-noto-cjk"; \
	if [ -n "$$need" ]; then echo "installing Debian packages for the tests:$$need…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; fi

test: install lint system-packages delta-client
	@$(BIN)/yishu check
	@$(BIN)/pytest

bench: install
	@$(BIN)/python -m yishu.bench $(ARGS)

bench-names: install
	@$(BIN)/python -m yishu.bench.names $(ARGS)

bench-collect: install
	@$(BIN)/python -m yishu.bench.collect $(ARGS)

bench-e2e: install
	@$(BIN)/python -m yishu.bench.e2e $(ARGS)

bench-api: install
	@$(BIN)/python -m yishu.bench.api $(ARGS)

clean:
	rm -rf .yishu $(DELTA_VENV)
