# make install | make test | make book [PROFILE=quick|smoke|paper] [RETRAIN=1] [PUBLISH=1] [JOBS=N] | make smoke | make clean
# Everything is installed into $(VENV) (a virtual environment made with $(PYTHON)).
PYTHON ?= python3
VENV ?= .venv
PROFILE ?= quick
RETRAIN ?=
# PUBLISH=1: publish the profile's runs into results/$(PROFILE)/ (otherwise results/ is only read)
PUBLISH ?=
# missing evolutions trained at once by make book (a local Ray instance; empty: one per core)
JOBS ?=
PY := $(VENV)/bin/python
# the data folder (read only): $EVOSYNTH_DATA, else ../shared/data when it exists
EVOSYNTH_DATA ?= $(wildcard $(abspath ../shared/data))
export EVOSYNTH_DATA

.PHONY: install test book smoke clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c constraints.txt -e ".[test]"
	touch $@

test: install
	$(PY) -m pytest -q

# execute the notebooks with the profile's parameters (training only what results/$(PROFILE)/ lacks), then the HTML
book: install
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m evosynth_lib.book --profile $(PROFILE) $(if $(RETRAIN),--retrain) $(if $(PUBLISH),--publish) $(if $(JOBS),--jobs $(JOBS))

smoke:
	$(MAKE) book PROFILE=smoke PUBLISH=1

clean:
	rm -rf _build book/notebooks/*.ipynb book/notebooks/run_log.json
