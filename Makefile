# The two commands the README opens with: `make demo` and `make test`. Both set up what they need.
# `make check` is the fast loop while editing: lint, types and the unit tier (the slow unit tests
# left out), spread over the cores by pytest-xdist. `make test` is the whole suite, as CI runs it.
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
SAMPLE := fixtures/sample/statement.pdf

.PHONY: gpu-check demo test check lint typecheck setup system-deps bench

$(UV):
	python3 -m pip install --user --quiet "uv==$(UV_VERSION)"

setup: $(UV)
	$(UV) sync --frozen --quiet

system-deps:
	bash scripts/install-system-deps.sh

demo: setup
	$(UV) run --frozen dualread extract $(SAMPLE) --engine embedded

lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

test: system-deps setup lint
	$(UV) run --frozen pytest

check: lint
	$(UV) run --frozen pytest -q -m "unit and not slow" -n auto

bench: setup
	$(UV) run --frozen python -m bench

# On a GPU host: build the images, start the servers per the plan, time the switches, run
# `dualread eval` per route over the fixtures and ../shared/realworld, write gpu-check.json.
gpu-check: setup
	$(UV) run --frozen python -m dualread.testing.gpucheck
