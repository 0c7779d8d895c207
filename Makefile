# Mathematics of AI — two commands on a fresh machine with Python 3.11:
#   make book   install everything into .venv and build the website into _build/html
#   make test   run every test (library, notebooks, exercise sheets, website, offline rendering)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NB     ?=

.PHONY: help install assets book book-strict test test-fast execute sheets lock clean

help:
	@echo "make book     install into .venv and build the website (_build/html)"
	@echo "make test     run the whole test suite"
	@echo "make execute  re-run notebooks and store outputs (NB=path/to/nb.ipynb for one)"
	@echo "make sheets   regenerate the student sheets exercises/ from solutions/"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" > /dev/null
	@touch $(STAMP)

install: $(STAMP)

assets: $(STAMP)
	$(PY) scripts/offline_assets.py

book: assets
	$(VENV)/bin/jupyter-book build . --keep-going
	@echo "Website built: open file://$(CURDIR)/_build/html/index.html"

book-strict: assets
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: assets
	$(PY) -m pytest -n 2 --dist loadfile
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  echo "\n!!! WARNING: Chromium is not installed: the offline-rendering test of the website was SKIPPED !!!\n"

test-fast: install
	$(PY) -m pytest -n 2 --dist loadfile tests -m "not browser and not book"

execute: install
	$(PY) scripts/execute.py $(NB)

sheets: install
	$(PY) -m course_lib.sheets

lock: install
	$(PY) scripts/lock.py

clean:
	rm -rf _build
