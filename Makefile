# Track Analytics — build and test entry points (see README.md; `make help` lists them).
#
# Python: the active virtual environment if there is one, otherwise ./.venv, which
# `make install` creates. Never the system Python: it may carry packages the project does
# not declare (orjson changes Plotly's output), so a missing requirement would go unseen.
VENV ?= .venv
ifdef VIRTUAL_ENV
PYTHON ?= python
else
PYTHON ?= $(VENV)/bin/python
endif
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))
# `make rebuild SKIP_RANDOM_FOREST=1` carries the previous build's Random Forests over.
SKIP_RANDOM_FOREST ?=

.PHONY: help all install install-python install-browser install-java install-js data models explain export \
        external transfer chapters site-assets site publish rebuild test test-fast bench bench-triage lint clean

## help: list the targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## all: fresh machine -> the report from the committed models: install, get + verify the data, execute the chapters, render if Quarto is here (no retraining; about 5 minutes on 2 cores, most of it installing)
all: install data chapters site

## install: a virtual environment (.venv unless one is active) with the pinned packages and the analysis package, Debian's Chromium, a Java runtime for Spark, the JS dev tools
install: install-python install-browser install-java install-js

install-python:
	@if [ -z "$$VIRTUAL_ENV" ] && [ ! -x "$(VENV)/bin/python" ]; then \
	  echo "creating the virtual environment $(VENV)"; python3 -m venv "$(VENV)"; fi
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r requirements.txt
	$(PYTHON) -m pip install -q --no-deps -e .

# Debian's Chromium drives the browser tests (Playwright's own browser download is not used).
# Only the tests need it: without root or passwordless sudo, or with
# TRACK_ANALYTICS_SKIP_BROWSER=1 (the publishing workflow), this step only warns.
install-browser:
	@if [ -n "$$TRACK_ANALYTICS_SKIP_BROWSER" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "warning: install Chromium (Debian package 'chromium') for the browser tests"; exit 0; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium \
	  || echo "warning: could not install Chromium; the browser tests need it"

# Java for the triage's Spark job and its local-Spark test (pyspark comes from requirements.txt).
# Debian's headless JRE 17 when no java is on PATH; without root or passwordless sudo, or with
# TRACK_ANALYTICS_SKIP_JAVA=1 (the publishing workflow), this step only warns.
install-java:
	@if [ -n "$$TRACK_ANALYTICS_SKIP_JAVA" ] || command -v java >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "warning: install Java 17 (Debian package 'openjdk-17-jre-headless') for Spark"; exit 0; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless \
	  || echo "warning: could not install Java; the Spark triage test needs it"

install-js:
	@if [ -f js/package-lock.json ]; then cd js && npm ci --no-audit --no-fund --silent; fi

## data: locate (or download) the raw file, verify its SHA-256, build the processed cache (seconds)
data:
	$(PYTHON) -m analysis.cli data

## models: retrain every protocol x model into models/ (about 12 minutes on 2 cores, plus about 75 minutes of 300-tree Random Forests unless SKIP_RANDOM_FOREST=1)
models:
	$(PYTHON) -m analysis.cli models $(if $(SKIP_RANDOM_FOREST),--skip-random-forest)

## explain: SHAP values and permutation importances of the champions (cached artifacts)
explain:
	$(PYTHON) -m analysis.cli explain

## export: write the browser models under models/export/ and the triage page's spec and example catalogue under models/triage/
export:
	$(PYTHON) -m analysis.cli export
	$(PYTHON) -m analysis.export.triage_spec

## external: score the committed champions on the external crawls into models/external.json (about 2-3 minutes; finds, verifies or downloads the crawls, see README "External crawls")
external:
	$(PYTHON) -m analysis.cli external

## transfer: compare model recipes on the external crawls (in-data, new-release, unseen-macro-genre and external scores), score every honest model there, apply the selection rule: models/transfer.json (about 45 minutes on 2 cores; trains, never touches the champions)
transfer:
	$(PYTHON) -m analysis.cli transfer

## rebuild: retrain, re-explain, rescore the external crawls and re-export everything (the export carries the external scores), then execute the chapters and render (slow: about 12 minutes of models plus about 75 minutes of Random Forests on 2 cores, then SHAP, the external scores and the export; `make rebuild SKIP_RANDOM_FOREST=1` carries the forests of the previous build over)
rebuild: data models explain external transfer export chapters site

## chapters: execute every chapter notebook in place from the committed models (about a minute; stored outputs are what Quarto renders)
chapters: site-assets
	$(PYTHON) -m analysis.cli chapters

site-assets:
	$(PYTHON) -m analysis.cli site-assets

## site: render the website into _site/ with Quarto when it is installed
site: site-assets
	@if command -v quarto >/dev/null 2>&1; then \
	  QUARTO_PYTHON="$$($(PYTHON) -c 'import sys; print(sys.executable)')" quarto render; \
	else echo "quarto not found: skipping render (pip install quarto-cli on a networked machine)."; fi

## publish: render and push _site/ to the gh-pages branch (GitHub Pages); any static host can serve _site/ instead
publish: site
	quarto publish gh-pages --no-render --no-prompt

## test: everything CI runs: unit, doctest, Quarto-rule checks, slow end-to-end, notebooks (nbval), browser, JS
test: site-assets
	$(PYTHON) -m pytest -m "slow or not slow" --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg tests analysis chapters
	@if [ -d js/test ]; then node --test js/test/; fi

## test-fast: unit tests, doctests and the Quarto-rule checks on both cores (seconds; without the plugins only `make test` needs: nbval, anyio, typeguard)
test-fast:
	$(PYTHON) -m pytest -p no:nbval -p no:anyio -p no:typeguard -n 2 tests analysis

## bench: print the performance figures the targets refer to (the triage's catalogues are generated into data/bench/ on first use)
bench:
	$(PYTHON) -m analysis.cli bench

## bench-triage: only the triage figures (1M / 5M-row catalogues, reasons, Spark local mode, its output checked against the command line's); REPEAT=3 prints medians of 3 runs
bench-triage:
	$(PYTHON) -m analysis.cli bench --only triage $(if $(REPEAT),--repeat $(REPEAT))

lint:
	$(PYTHON) -m ruff check analysis tests chapters tools --extend-exclude tests/fixtures/quarto/good,tests/fixtures/quarto/bad

clean:
	rm -rf _site .quarto _freeze .pytest_cache
