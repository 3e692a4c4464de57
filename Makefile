# ESS Pratiques — two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install demo test test-e2e bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus est requis")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

demo: install
	$(BIN)/esspratiques migrate
	$(BIN)/esspratiques seed-demo
	@echo ""
	@echo "  ESS Pratiques tourne sur http://127.0.0.1:$(PORT)"
	@echo "  Connexion de démonstration : demo@esspratiques.example / demo-ess-pratiques"
	@echo ""
	@echo "  Boîte de réception de démonstration : http://127.0.0.1:$(PORT)/demo/boite-de-reception"
	PORT=$(PORT) $(BIN)/esspratiques worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	PORT=$(PORT) $(BIN)/esspratiques serve --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

test-e2e: install
	$(BIN)/python -m pip install --quiet -e ".[test,e2e]"
	cd tests/e2e && npm ci --no-audit --no-fund
	ESSP_E2E=1 $(BIN)/python -m pytest tests/e2e -q

BENCH_ENGINES ?= sqlite postgres

bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	@for engine in $(BENCH_ENGINES); do \
		$(BIN)/python -m bench.campaign_analysis --engine $$engine --responses 10000 || exit 1; \
	done
	$(BIN)/python -m bench.network_aggregation

clean:
	rm -rf $(VENV) var .pytest_cache
