# The two commands a newcomer needs:  make demo  and  make test
SHELL := /bin/bash
PY := .venv/bin/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONPATH := layers/shared/python:.

LAYER_SOURCES := requirements.txt infra/build_layer.py $(shell find layers/shared -name '*.py' -o -name '*.j2' -o -name '*.json' 2>/dev/null)
SYNTH_SOURCES := $(shell find infra functions -name '*.py' 2>/dev/null)

.PHONY: setup demo serve test soak synth layer lint bench scale cdk-synth clean redrive openapi browser

setup: .venv/.installed  ## virtual environment with everything pinned

.venv/.installed: requirements.txt requirements-dev.txt
	python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

layer: build/layer/.built  ## the shared Lambda layer (arm64 wheels, no Docker)

build/layer/.built: .venv/.installed $(LAYER_SOURCES)
	$(PY) infra/build_layer.py
	touch $@

synth: cdk.out/PatientNotify.template.json  ## synthesise the CDK app offline (cdk-nag runs)

cdk.out/PatientNotify.template.json: build/layer/.built $(SYNTH_SOURCES) cdk.json
	CDK_OUTDIR=cdk.out $(PY) infra/app.py

demo: synth  ## the local stack plays two practices and a dozen patients over a week
	$(PY) -m local demo

serve: synth  ## the local stack on http://127.0.0.1:4566 until Ctrl-C
	$(PY) -m local serve --port 4566

# Test files are shared out to up to 4 workers (one local stack each); WORKERS=0 runs serially.
WORKERS ?= $(shell python3 -c "import os; print(min(4, os.cpu_count() or 1))")

test: synth browser  ## the whole test suite (what CI runs)
	$(PY) -m pytest -n $(WORKERS) --dist loadfile

# The page tests drive Debian's chromium with chromedriver and run axe-core in it.
browser: .stamps/browser node_modules/axe-core/axe.min.js

.stamps/browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi
	mkdir -p .stamps && touch $@

node_modules/axe-core/axe.min.js: package.json
	npm install --no-audit --no-fund --silent
	touch $@

SOAK := FUZZ_EXAMPLES=5000 F2_TRIALS=50 B4_ROUNDS=10 B8_ROUNDS=20 B9_SHUFFLES=200 C8_CHANGES=150 \
	SCHEMATHESIS_EXAMPLES=300 SCHEMATHESIS_COVERAGE=1
soak: synth  ## the long drills, serially, figures printed: $(SOAK)
	$(SOAK) $(PY) -m pytest -s tests/e2e/test_robustness.py tests/e2e/test_faults.py \
		tests/e2e/test_freed_slots.py tests/e2e/test_event_order.py tests/unit/test_practice_content.py \
		tests/e2e/test_contract.py tests/e2e/test_settings_change.py

.venv-lint/.installed: requirements-lint.txt
	python3 -m venv .venv-lint
	.venv-lint/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-lint.txt
	touch $@

lint: synth .venv-lint/.installed  ## ruff (lint and format), mypy strict on the layer, cfn-lint + checkov on the template (accepted: infra/accepted_checks.yaml)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	.venv-lint/bin/python infra/lint_template.py

openapi: setup  ## rewrite docs/api/openapi.json from the code (a test fails while they differ)
	$(PY) -m ops.openapi > docs/api/openapi.json

redrive: setup  ## put dead-lettered work back: make redrive QUEUE=SendFailures (or StreamFailures, ScheduleFailures, Escalations; AWS creds or AWS_ENDPOINT_URL)
	$(PY) -m ops.redrive $(QUEUE)

bench: synth  ## figures: cold start, AWS calls and cost per appointment, SMS segments, throughput
	$(PY) -m bench

scale: .venv/.installed  ## a national day simulated: peaks against AWS quotas before and after smoothing, SMS delays, monthly cost
	$(PY) -m bench.scale

node_modules/.bin/cdk: package.json
	npm install --no-audit --no-fund --silent
	touch $@

cdk-synth: build/layer/.built node_modules/.bin/cdk  ## the same synth through the pinned cdk CLI
	node_modules/.bin/cdk synth --quiet

clean:
	rm -rf build cdk.out .local
