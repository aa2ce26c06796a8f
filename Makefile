# Two commands do all the set-up on a fresh machine: `make run` starts the app, `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean plotly-bundle

$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(BIN)/.dev: requirements-dev.txt $(BIN)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# plotly.js's cartesian bundle (1.5 MB instead of 4.8 MB: a new tab draws its first chart ~1 s sooner), the version
# plotly.py writes figures for, from npm. Without npm or the registry the app serves plotly's full bundle instead
# (ui/page/charts.py, which also refuses a bundle of another version). npm gives up quickly (its own retries wait ~71 s
# for an unreachable registry), and a failure is remembered in PLOTLY_FAILED, so a later `make run` or
# `make test` does not wait again: `make plotly-bundle` (or PLOTLY_RETRY=1, or `make clean`) tries again.
# npm gives up after PLOTLY_FETCH_S seconds: with the version check, the whole step stays under 10 s.
PLOTLY_FETCH_S ?= 9
PLOTLY_FAILED := static/.plotly-fetch-failed
static/plotly-cartesian.min.js: $(BIN)/.runtime
	@V=$$($(BIN)/python -c "import plotly.offline as o; print(o.get_plotlyjs_version())") && [ -n "$$V" ] || exit 1; \
	if [ -f $@ ] && head -c 300 $@ | grep -q "^\* plotly\.js.* v$$V$$"; then touch $@; exit 0; fi; \
	rm -f $@; \
	if [ -f $(PLOTLY_FAILED) ] && [ "$(PLOTLY_RETRY)" != 1 ]; then \
	  echo "static: no cartesian bundle ($$(cat $(PLOTLY_FAILED))): the charts use plotly's full bundle; retry: make plotly-bundle"; \
	  exit 0; fi; \
	D=$$(mktemp -d); mkdir -p static; rm -f $(PLOTLY_FAILED); \
	if ! command -v npm >/dev/null 2>&1; then WHY="npm not found"; \
	elif ! (cd $$D && timeout $(PLOTLY_FETCH_S) npm pack -q --fetch-retries=0 --fetch-timeout=$$(( $(PLOTLY_FETCH_S) * 1000 )) \
	        plotly.js-cartesian-dist-min@$$V >/dev/null 2>&1); then WHY="npm pack failed or took over $(PLOTLY_FETCH_S) s"; \
	elif ! tar xzf $$D/plotly.js-cartesian-dist-min-$$V.tgz -C $$D package/plotly-cartesian.min.js; then WHY="not in the package"; \
	elif ! head -c 300 $$D/package/plotly-cartesian.min.js | grep -q "^\* plotly\.js.* v$$V$$"; then WHY="the package is not plotly.js $$V"; \
	else WHY=""; cp $$D/package/plotly-cartesian.min.js $@; echo "static: plotly.js $$V cartesian bundle"; fi; \
	rm -rf $$D; \
	if [ -n "$$WHY" ]; then echo "plotly.js $$V: $$WHY, $$(date -u +%FT%TZ)" > $(PLOTLY_FAILED); \
	  echo "static: $$WHY: the charts use plotly's full bundle (4.8 MB); retry: make plotly-bundle"; fi

# Fetch the cartesian bundle again, even after a remembered failure.
plotly-bundle: $(BIN)/.runtime
	$(MAKE) PLOTLY_RETRY=1 static/plotly-cartesian.min.js

# `make run` serves this machine only; `make run ADDRESS=0.0.0.0` serves the network. ui.serving.serve is `streamlit run` with the
# page's server guards (no Origin stall, security headers: README, "Hosting").
ADDRESS ?= 127.0.0.1
run: $(BIN)/.runtime static/plotly-cartesian.min.js
	$(BIN)/python -m ui.serving.serve app.py --server.address $(ADDRESS)

# The tests in two parts: every test that needs no server spread over the machine's cores (pytest-xdist; torch uses one
# thread a worker), then the real-browser and proxy tests one at a time (each starts servers and Chromium, which take
# the cores themselves). Either part failing, or finding no tests (pytest's exit code 5), fails `make test`.
test: $(BIN)/.dev static/plotly-cartesian.min.js
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -n auto -m "not browser and not proxy"
	$(BIN)/python -m pytest -m "browser or proxy"

lint: $(BIN)/.dev
	$(BIN)/python -m ruff check . && $(BIN)/python -m ruff format --check .

bench: $(BIN)/.runtime
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	rm -f static/plotly-cartesian.min.js static/plotly.min.js $(PLOTLY_FAILED)
