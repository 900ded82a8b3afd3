# The two commands the README opens with: `make demo` and `make test`. Both set up what they need.
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
SAMPLE := fixtures/sample/statement.pdf

.PHONY: demo test lint typecheck setup system-deps bench

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

bench: setup
	$(UV) run --frozen python -m bench
