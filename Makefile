# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
STAGE ?= dev
PORT ?= 8000

.PHONY: run test reset bench fuzz package deploy lint clean web browser docs poppler

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP) web
	PORT=$(PORT) $(BIN)/python -m tools.run_local

test: $(STAMP) web browser poppler
	E2E=1 $(BIN)/python -m pytest -q

# The web app, built from the npm registry when node is present (the API runs without it). A node_modules that
# is a symbolic link is someone else's copy: `npm ci` would empty it, so it is used as it is.
web:
	@if command -v npm >/dev/null; then \
	  if [ ! -L web/node_modules ] && { [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; }; then \
	    (cd web && npm ci --no-audit --no-fund --loglevel=error); fi; \
	  if [ ! -f web/dist/index.html ] || [ -n "$$(find web/src web/public web/index.html web/vite.config.js -newer web/dist/index.html 2>/dev/null)" ]; then \
	    (cd web && npm run build --silent); fi; \
	else echo "npm not found: the web app is not built"; fi

# Debian's Chromium for the browser tests, installed where missing.
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	    echo "chromium could not be installed: the browser tests will be skipped"; }; } || true

# Debian's poppler-utils (pdfsig, pdftotext) and NSS's certutil, which check the issued resolutions' PDFs from
# outside, installed where missing.
poppler:
	@{ test -x /usr/bin/pdfsig && test -x /usr/bin/certutil; } || { command -v apt-get >/dev/null && \
	  { (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils libnss3-tools >/dev/null) || \
	    echo "poppler-utils could not be installed: the PDF signature tests will be skipped"; }; } || true

reset:
	rm -rf .local

# docs/API.md's reference part, generated from the app's OpenAPI document (tests/unit/test_api_docs.py checks it).
docs: $(STAMP)
	$(BIN)/python -m tools.api_docs

bench: $(STAMP)
	$(BIN)/python -m bench

fuzz: $(STAMP)
	FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest -q tests/api/test_fuzz.py

clean:
	rm -rf build .local

# ---- cloud deployment (docs/DEPLOY.md) ----
# `make package STAGE=prod TRUST_ANCHORS=<pem>`: build/package/$(STAGE)/{sam.json,deployment.zip} (tools/package.py);
#   fetches the Lambda (python3.12) builds of native packages itself the first time they are missing; prod
#   refuses to package without a trust anchor (TRUST_ANCHORS, or the stage's chalicelib/trust/<stage>.pem).
# `make deploy STAGE=prod DEPLOY_BUCKET=<artifact bucket> [PARAMS="PlatformAdmins=... AlarmEmail=..."]`.
# `make deploy-web STAGE=prod`: web/dist + /config.json to the web bucket, CloudFront invalidated.
DEPLOY_BUCKET ?=
PARAMS ?=
TRUST_ANCHORS ?=
.PHONY: lambda-wheels deploy-web

lambda-wheels: $(STAMP)
	$(BIN)/python -m tools.package --fetch-wheels

package: $(STAMP)
	$(BIN)/python -m tools.package --stage $(STAGE) $(if $(TRUST_ANCHORS),--trust-anchors "$(TRUST_ANCHORS)")

lint: package
	$(BIN)/cfn-lint --non-zero-exit-code error build/package/$(STAGE)/sam.json infra/edge.yaml

deploy: $(STAMP)
	$(BIN)/python -m tools.deploy check --stage $(STAGE) --bucket "$(DEPLOY_BUCKET)"
	$(MAKE) --no-print-directory package STAGE=$(STAGE) TRUST_ANCHORS="$(TRUST_ANCHORS)"
	$(BIN)/python -m tools.deploy stack --stage $(STAGE) --bucket "$(DEPLOY_BUCKET)" --params "$(PARAMS)"

deploy-web: web
	$(BIN)/python -m tools.deploy web --stage $(STAGE)
