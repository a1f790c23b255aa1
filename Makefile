# The two commands: `make run` (dashboard on the bundled sample) and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8501

.PHONY: setup run test test-fast sample clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch pinned in the same command: a bare torch would pull a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0 -e '.[dev,scale]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/monitor ingest data/sample_reviews.csv --quiet
	$(VENV)/bin/streamlit run app.py --server.address=$(HOST) --server.port=$(PORT) \
		--server.headless=true --browser.gatherUsageStats=false

test: setup
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest

test-fast: setup
	HF_HUB_OFFLINE=1 $(PY) -m pytest -m "not slow"

sample: setup
	$(PY) data/make_sample.py

clean:
	rm -rf var/monitor.db* .pytest_cache
