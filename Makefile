# The README's two commands. Each does all set-up on a fresh machine.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: install install-test run test bench ci-reference clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Re-install when the packaging changes. Editable: the shipped TOML folders are read from the checkout.
$(STAMP): pyproject.toml setup.py | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

# The test extra: pytest, hypothesis, ruff, and the build backend the wheel test uses offline;
# and Ray, so that the Ray executor is tested (`make run` does not need it).
$(TSTAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,ray]'
	touch $(TSTAMP)

install: $(STAMP)

install-test: $(TSTAMP)

run: install
	$(VENV)/bin/sercompress run --config default --out reports/default

test: install-test
	$(PY) -m pytest -q tests

bench: install
	for b in bench/*.py; do $(PY) $$b || exit 1; done

# Regenerate the committed CI reference after an intended change of figures.
ci-reference: install
	rm -rf reports/quick
	$(VENV)/bin/sercompress run --config quick --out reports/quick
	mkdir -p reports/ci-reference
	cp reports/quick/summary.json reports/ci-reference/summary.json

clean:
	rm -rf reports/default reports/quick .cache
