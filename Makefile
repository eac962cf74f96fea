# Track Analytics — build and test entry points (see README.md).
PYTHON ?= python3
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))

.PHONY: all install install-python install-browser install-js data models explain export chapters \
        site-assets site test test-fast bench lint clean

## all: set up, get + verify the data, retrain and export models, execute chapters, render if Quarto is here
all: install data models explain export chapters site

## install: Python packages (pinned), the analysis package, headless Chromium, JS dev tools
install: install-python install-browser install-js

install-python:
	$(PYTHON) -m pip install -q -r requirements.txt
	$(PYTHON) -m pip install -q --no-deps -e .

# Debian's Chromium drives the browser tests (Playwright's own browser download is not used).
install-browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) ; \
	  else echo "Install Chromium (package 'chromium') for the browser tests." ; fi ; }

install-js:
	@if [ -f js/package-lock.json ]; then cd js && npm ci --no-audit --no-fund --silent; fi

## data: locate (or download) the raw file, verify its SHA-256, build the processed cache
data:
	$(PYTHON) -m analysis.cli data

## models: retrain every protocol x model, write models/ (slow: minutes)
models:
	$(PYTHON) -m analysis.cli models

## explain: SHAP values and permutation importances of the champions (cached artifacts)
explain:
	$(PYTHON) -m analysis.cli explain

## export: write the browser models under models/export/
export:
	$(PYTHON) -m analysis.cli export

## chapters: execute every chapter notebook in place (stored outputs are what Quarto renders)
chapters: site-assets
	$(PYTHON) -m analysis.cli chapters

site-assets:
	$(PYTHON) -m analysis.cli site-assets

## site: render the website with Quarto when it is installed
site: site-assets
	@if command -v quarto >/dev/null 2>&1; then quarto render; \
	else echo "quarto not found: skipping render (pip install quarto-cli on a networked machine)."; fi

## test: everything CI runs — unit, doctest, slow end-to-end, notebooks (nbval), browser, JS
test: site-assets
	$(PYTHON) -m pytest -m "slow or not slow" --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg tests analysis chapters
	@if [ -d js/test ]; then node --test js/test/; fi

## test-fast: unit tests and doctests only (seconds)
test-fast:
	$(PYTHON) -m pytest tests analysis

bench:
	$(PYTHON) -m analysis.cli bench

lint:
	$(PYTHON) -m ruff check analysis tests chapters

clean:
	rm -rf _site .quarto .pytest_cache
