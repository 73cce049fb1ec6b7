# slokeeper — `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TOOLCHAIN := operator/slokeeper/localcluster/toolchain/build.sh
PEERS     := operator/slokeeper/localcluster/toolchain/peers.sh

.PHONY: help setup toolchain peers test unit integration lint format crds values-schema manifests lock demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The image's dependencies at the versions the image pins (requirements.lock, hashes dropped: pip
# takes no hashes for an editable install), so tests run what ships; the extras resolve freely.
$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	sed -e '/--hash=/d' -e 's/ \\$$//' requirements.lock > $(VENV)/constraints.txt
	$(BIN)/pip install --quiet -c $(VENV)/constraints.txt -e '.[dev]'
	touch $@

setup: $(BIN)/.installed toolchain peers ## install the package, build the local control plane and the peers (cached)

toolchain: ## build Kubernetes, etcd, kwok, helm and Prometheus into ~/.cache/slokeeper (once)
	bash $(TOOLCHAIN)

# After the toolchain, never beside it (one Go build at a time), and before the tests: built beside
# them the peers' ten minutes of Go took 70 on two busy cores and slowed the real-node tests.
peers: toolchain ## build Flagger and Argo Rollouts, the peers tests and benches compare with (once)
	bash $(PEERS)

lint: $(BIN)/.installed ## ruff, mypy --strict, import layers, sizes and cycles, generated files current, actionlint
	$(BIN)/ruff check operator tests bench manifests lint
	$(BIN)/ruff format --check operator tests bench manifests lint
	$(BIN)/mypy
	$(BIN)/mypy lint
	$(BIN)/lint-imports
	$(BIN)/python lint/structure.py
	$(BIN)/slokeeper crds --check
	$(BIN)/slokeeper crds --check --output-dir charts/slokeeper/files/crds
	$(BIN)/python lint/values_schema.py --check
	$(BIN)/python lint/workflows.py

# Two workers, a file each at a time: most integration tests wait on a cluster, so two files
# share the two cores well. The real-node files count as one (tests/conftest.py): one worker runs
# them one after another, so a single real node is up at a time. The slowest tests are listed.
WORKERS ?= 2
test: setup lint ## run every test: lint, unit, and integration on the real control plane
	$(BIN)/pytest -n $(WORKERS) --dist loadfile --durations=30

unit: $(BIN)/.installed ## the fast unit tests only
	$(BIN)/pytest tests/unit

integration: setup ## the integration tests only
	$(BIN)/pytest tests/integration

format: $(BIN)/.installed ## format the code
	$(BIN)/ruff format operator tests bench manifests
	$(BIN)/ruff check --fix operator tests bench manifests

# The chart's copy is read by templates/crds.yaml (not Helm's crds/, which `helm upgrade` skips).
crds: $(BIN)/.installed ## regenerate crds/ (and the chart's copy) from the models
	$(BIN)/slokeeper crds
	$(BIN)/slokeeper crds --output-dir charts/slokeeper/files/crds

# The image installs exactly these (pinned, hashed); tests/unit/test_packaging_lock.py fails when
# they no longer satisfy pyproject.toml. PIP_FIND_LINKS is cleared so only the index's files count.
PIP_COMPILE := PIP_FIND_LINKS= $(BIN)/pip-compile --quiet --generate-hashes --strip-extras \
	--allow-unsafe --no-emit-index-url --no-emit-find-links
lock: $(BIN)/.installed ## re-pin requirements.lock and requirements-build.lock from pyproject.toml
	$(PIP_COMPILE) --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --only-build-deps --all-build-deps --output-file requirements-build.lock pyproject.toml

values-schema: $(BIN)/.installed ## regenerate the chart's values.schema.json from values.yaml
	$(BIN)/python lint/values_schema.py

manifests: $(BIN)/.installed ## regenerate manifests/ (kustomize) from the Helm chart
	$(BIN)/python manifests/render.py

demo: $(BIN)/.installed toolchain ## the demo: the operator on a local control plane, a canary promoted and a bad one rolled back
	$(BIN)/slokeeper demo

clean: ## remove the virtualenv (the toolchain cache in ~/.cache/slokeeper stays)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
