# The README's two commands. Each does all set-up on a fresh machine.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test bench ci-reference clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Re-install when pyproject.toml changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/sercompress run --config default --out reports/default

test: install
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
