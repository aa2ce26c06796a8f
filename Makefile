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

# plotly.js's cartesian bundle (1.5 MB instead of 4.8 MB: a new tab draws its first chart ~1 s sooner), the version
# plotly.py writes figures for, from npm. Without npm (or the registry) the app serves plotly's full bundle instead.
static/plotly-cartesian.min.js: $(BIN)/.runtime
	@V=$$($(BIN)/python -c "import plotly.offline as o; print(o.get_plotlyjs_version())"); \
	D=$$(mktemp -d); \
	if command -v npm >/dev/null 2>&1 && (cd $$D && npm pack -q plotly.js-cartesian-dist-min@$$V >/dev/null 2>&1) \
	   && tar xzf $$D/plotly.js-cartesian-dist-min-$$V.tgz -C $$D package/plotly-cartesian.min.js; then \
	  mkdir -p static && cp $$D/package/plotly-cartesian.min.js $@; echo "static: plotly.js $$V cartesian bundle"; \
	else echo "static: npm unavailable, the charts use plotly's full bundle"; fi; rm -rf $$D

# `make run` serves this machine only; `make run ADDRESS=0.0.0.0` serves the network. ui.serve is `streamlit run` with the
# page's server guards (no Origin stall, security headers: README, "Hosting").
ADDRESS ?= 127.0.0.1
run: $(BIN)/.runtime static/plotly-cartesian.min.js
	$(BIN)/python -m ui.serve app.py --server.address $(ADDRESS)

test: $(BIN)/.dev static/plotly-cartesian.min.js
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/.dev
	$(BIN)/python -m ruff check . && $(BIN)/python -m ruff format --check .

bench: $(BIN)/.runtime
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
