# Mathematics of AI — two commands on a fresh machine with Python 3.11:
#   make book   install everything into .venv and build the website into _build/html
#   make test   run every test (library, notebooks, exercise sheets, website, offline rendering)
# Instructors: make book EDITION=instructor; make grade SHEET=01 SUBMISSIONS=path/to/folder
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NB     ?=
EDITION ?= student
# make grade: SHEET=01 SUBMISSIONS=folder [OUT=folder] [WORKERS=n] [TIMEOUT=s per cell] [MEMORY=GiB]
SHEET ?=
SUBMISSIONS ?=
GRADE_OPTS = $(if $(OUT),--out "$(OUT)") $(if $(WORKERS),--workers $(WORKERS)) \
             $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(MEMORY),--memory $(MEMORY))

.PHONY: help install assets book book-strict test test-fast execute sheets grade lock clean

help:
	@echo "make book     install into .venv and build the website (_build/html)"
	@echo "make test     run the whole test suite"
	@echo "make execute  re-run notebooks and store outputs (NB=path/to/nb.ipynb for one)"
	@echo "make sheets   annotate solutions/ for nbgrader and regenerate the student sheets exercises/"
	@echo "make book EDITION=instructor   the website with the solution sheets (_build/instructor)"
	@echo "make grade SHEET=01 SUBMISSIONS=folder   grade a folder of submissions with nbgrader"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" > /dev/null
	@touch $(STAMP)

install: $(STAMP)

assets: $(STAMP)
	$(PY) scripts/offline_assets.py

book: assets
ifeq ($(EDITION),instructor)
	$(PY) scripts/instructor_edition.py --keep-going
else ifeq ($(EDITION),student)
	$(VENV)/bin/jupyter-book build . --keep-going
	@echo "Website built: open file://$(CURDIR)/_build/html/index.html"
else
	@echo "EDITION must be student (the default) or instructor" && exit 2
endif

book-strict: assets
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: assets
	$(PY) -m pytest -n 2 --dist loadfile
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  echo "\n!!! WARNING: Chromium is not installed: the offline-rendering test of the website was SKIPPED !!!\n"

test-fast: install
	$(PY) -m pytest -n 2 --dist loadfile tests -m "not browser and not book and not slow"

execute: install
	$(PY) scripts/execute.py $(NB)

sheets: install
	$(PY) -m course_lib.sheets

# nbgrader runs `alembic` by name: the venv's bin/ goes first on PATH
grade: install
	@test -n "$(SHEET)" -a -n "$(SUBMISSIONS)" || \
	  { echo "usage: make grade SHEET=01 SUBMISSIONS=path/to/folder [OUT=folder] [WORKERS=n]"; exit 2; }
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m course_lib.grading $(SHEET) "$(SUBMISSIONS)" $(GRADE_OPTS)

lock: install
	$(PY) scripts/lock.py

clean:
	rm -rf _build
