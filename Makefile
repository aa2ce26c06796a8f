# Two commands do all the set-up on a fresh machine: `make run` starts the app, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(BIN)/.dev: requirements-dev.txt $(BIN)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

run: $(BIN)/.runtime
	$(BIN)/python -m streamlit run app.py

test: $(BIN)/.dev
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/.dev
	$(BIN)/python -m ruff check . && $(BIN)/python -m ruff format --check .

bench: $(BIN)/.runtime
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
