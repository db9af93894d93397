# The two set-up commands of the README: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)
export GX_ANALYTICS_ENABLED := False

.PHONY: install demo test lint bench clean postgres

$(STAMP): requirements.lock pyproject.toml
	@echo "installing into $(VENV) from requirements.lock (first time: about 2-3 minutes)…"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --upgrade pip
	@$(BIN)/python -m pip install -q -r requirements.lock
	@$(BIN)/python -m pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

demo: install
	@$(BIN)/yishu demo

lint: install
	@$(BIN)/ruff check plugins dags tests

# The catalog tests also run on a real PostgreSQL server (Debian's package, started by the tests).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql for the tests…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

test: install lint postgres
	@$(BIN)/yishu check
	@$(BIN)/pytest

bench: install
	@$(BIN)/python -m yishu.bench $(ARGS)

clean:
	rm -rf .yishu
