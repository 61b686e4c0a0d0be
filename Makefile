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
# `make package STAGE=prod`: build/package/$(STAGE)/{sam.json,deployment.zip}, offline (tools/package.py).
# `make lambda-wheels`: once, online: Lambda builds of native packages whose installed build Lambda cannot load.
# `make deploy STAGE=prod DEPLOY_BUCKET=<artifact bucket> [PARAMS="OidcIssuer=... AlarmEmail=..."]`.
DEPLOY_BUCKET ?=
PARAMS ?=
.PHONY: lambda-wheels

lambda-wheels: $(STAMP)
	$(BIN)/python -m tools.package --fetch-wheels

package: $(STAMP)
	$(BIN)/python -m tools.package --stage $(STAGE)

lint: package
	$(BIN)/cfn-lint --non-zero-exit-code error build/package/$(STAGE)/sam.json

deploy: package
	@if ! command -v aws >/dev/null 2>&1 || [ -z "$(DEPLOY_BUCKET)" ] || ! aws sts get-caller-identity >/dev/null 2>&1; then \
	  echo "Not deploying: this needs the AWS CLI, credentials of the target account, and DEPLOY_BUCKET."; \
	  echo "The package is ready in build/package/$(STAGE). With an account configured, run:"; \
	  echo "  make deploy STAGE=$(STAGE) DEPLOY_BUCKET=<bucket for artifacts> PARAMS=\"AlarmEmail=ops@example.gov.vn\""; \
	  echo "which runs:"; \
	  echo "  aws cloudformation package --template-file build/package/$(STAGE)/sam.json --s3-bucket <bucket> --output-template-file build/package/$(STAGE)/packaged.json"; \
	  echo "  aws cloudformation deploy --template-file build/package/$(STAGE)/packaged.json --stack-name ecabinet-$(STAGE) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND [--parameter-overrides ...]"; \
	else \
	  set -e; \
	  aws cloudformation package --template-file build/package/$(STAGE)/sam.json --s3-bucket "$(DEPLOY_BUCKET)" \
	    --output-template-file build/package/$(STAGE)/packaged.json; \
	  aws cloudformation deploy --template-file build/package/$(STAGE)/packaged.json --stack-name ecabinet-$(STAGE) \
	    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND $(if $(PARAMS),--parameter-overrides $(PARAMS)); \
	fi
