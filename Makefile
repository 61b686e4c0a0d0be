# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
STAGE ?= dev
PORT ?= 8000

.PHONY: run test reset bench fuzz package deploy lint clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m tools.run_local

test: $(STAMP)
	$(BIN)/python -m pytest -q

reset:
	rm -rf .local

bench: $(STAMP)
	$(BIN)/python -m bench

fuzz: $(STAMP)
	FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest -q tests/api/test_fuzz.py

clean:
	rm -rf build .local
