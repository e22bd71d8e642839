# The front door. `make book` and `make test` do all the set-up themselves.
SHELL := /bin/bash
PYTHON ?= python3
PYTHON_MIN := 3.11
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-requirements
VENDOR ?= vendor
MATHJAX := $(VENDOR)/mathjax/tex-chtml.js
BUILD_FLAGS := -W -n --keep-going

.PHONY: book test sync student assign grade bench-grade pdf format bench publish clean help venv mathjax python-check
help:
	@echo "make book     build the HTML site into _build/html (strict: warnings and failing cells fail)"
	@echo "make test     run the test suite (pytest)"
	@echo "make sync     regenerate the .ipynb twins from the chapter .md sources"
	@echo "make student  student notebooks (student/) and the solution-free site (_build/student/html)"
	@echo "make assign [CHAPTERS=\"01_logsumexp ...\"]  make student, each chapter's otter autograder (_build/autograder)"
	@echo "              and the solution-free course repository to push (_build/distribution; default all chapters)"
	@echo "make grade CHAPTER=01_logsumexp SUBMISSIONS=dir [ROSTER=csv CANVAS_COLUMN=name JOBS=n TIMEOUT=s CELL_TIMEOUT=s]  grade a folder into the gradebook (_build/grades)"
	@echo "make bench-grade [CHAPTER=01_logsumexp COPIES=2 JOBS=n]  seconds and kernel peak memory per graded submission (_build/bench_grade.json)"
	@echo "make format   ruff-format the chapters' code cells (88 columns), regenerate twins and student notebooks"
	@echo "make pdf      the book and the student handouts as PDFs (_build/pdf; needs XeLaTeX, see README)"
	@echo "make bench    build-time budget: cold, warm, one-chapter edit, per-chapter times (_build/bench.json)"
	@echo "make publish  build and push _build/html to the gh-pages branch"
	@echo "make clean    remove _build (the execution cache included)"
	@echo "make venv     only the set-up: .venv with the pinned requirements (Python >= $(PYTHON_MIN))"
	@echo "make mathjax  only the local MathJax copy (vendor/mathjax, from the pinned pip package)"

# The venv is (re)installed only when requirements.txt changes. Set-up needs only Python and make.
venv: $(INSTALLED)
$(INSTALLED): requirements.txt
	@$(MAKE) --no-print-directory python-check
	@# (Re)create the venv when it is missing or was left half-made (no pip), e.g. by an interrupted run.
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 \
	  | grep -v "is ignored: it is neither a file nor a directory" || true
	$(BIN)/python -c "import jupyter_book, torch, torchvision, sympy, myst_nb"
	@touch $@

# The Python that makes the venv must be new enough; say so plainly instead of failing somewhere in pip.
python-check:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: '$(PYTHON)' not found. Install Python $(PYTHON_MIN) or newer, or run make PYTHON=/path/to/python3.12" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < tuple(map(int, "$(PYTHON_MIN)".split("."))))' || { \
	  echo "make: this book needs Python $(PYTHON_MIN) or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "      Install a newer Python and run make PYTHON=python3.12 (or python3.11, python3.13)." >&2; exit 1; }

# A local MathJax copy, served from the site root (not _static/: Sphinx would add a script tag per file).
# It comes from the pinned pip package django-static-mathjax (MathJax 3.2.2's es5 build), so no npm.
mathjax: $(MATHJAX)
$(MATHJAX): $(INSTALLED)
	$(BIN)/python tools/vendor_mathjax.py $(VENDOR)/mathjax

book: $(INSTALLED) $(MATHJAX)
	$(BIN)/jupyter-book build . $(BUILD_FLAGS)

test: $(INSTALLED) $(MATHJAX)
	$(BIN)/python -m pytest

sync: $(INSTALLED)
	$(BIN)/python tools/sync_twins.py

clean:
	rm -rf _build

# The homework edition (issue 6): student notebooks in student/ (committed, for Colab/Binder) and the
# solution-free site in _build/student/html. The site is built strictly with execution off: a stub would
# raise, and outputs could give answers away. Its sources are generated into $(STUDENT_SRC).
STUDENT_SRC := _build/student_src
# `jupyter-book config sphinx` does not put local_extensions (_ext) on the path; PYTHONPATH does.
student: $(INSTALLED) $(MATHJAX)
	$(BIN)/python tools/make_student.py
	$(BIN)/jupyter-book config sphinx $(STUDENT_SRC) >/dev/null
	PYTHONPATH=_ext $(BIN)/sphinx-build $(BUILD_FLAGS) -t student -q -b html -d _build/student/doctrees $(STUDENT_SRC) _build/student/html
	@echo "student notebooks: student/   student site: _build/student/html/index.html"

# Autograding with otter-grader (instructors.md): `make assign` is the homework edition plus, for every
# chapter with grading/<stem>/, the autograder zip with the hidden tests (_build/autograder/<stem>/, never
# in student/), and _build/distribution/, the course's own repository (student_repository in _config.yml)
# with the student notebooks of CHAPTERS (default all). `make grade` grades every file of a folder locally,
# JOBS at a time, each submission in a process and temporary folder of its own; a cell may run CELL_TIMEOUT s,
# a submission TIMEOUT s.
assign: student
	$(BIN)/python tools/make_autograder.py
	$(BIN)/python tools/make_student.py --distribution $(CHAPTERS)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TIMEOUT ?= 600
CELL_TIMEOUT ?= 60
# The grading budget: COPIES copies of CHAPTER's solved twin graded JOBS at a time; seconds and the
# kernel's peak memory per submission, and a class of 300 (_build/bench_grade.json).
COPIES ?= 2
bench-grade: assign
	$(BIN)/python tools/bench_grade.py --chapter $(or $(CHAPTER),01_logsumexp) --copies $(COPIES) --jobs $(JOBS)

# Without SUBMISSIONS nothing is graded: the written points are read again into the gradebook.
grade: $(INSTALLED)
	@test -n "$(CHAPTER)" || { echo "usage: make grade CHAPTER=<stem> [SUBMISSIONS=<folder>] [ROSTER=<csv> CANVAS_COLUMN=<name> JOBS=n TIMEOUT=s CELL_TIMEOUT=s]" >&2; exit 2; }
	$(BIN)/python tools/grade.py "$(CHAPTER)" $(if $(SUBMISSIONS),"$(SUBMISSIONS)") --jobs $(JOBS) --timeout $(TIMEOUT) --cell-timeout $(CELL_TIMEOUT) $(if $(ROSTER),--roster "$(ROSTER)") $(if $(CANVAS_COLUMN),--canvas-column "$(CANVAS_COLUMN)")

# Code style (issue 12): ruff formats every chapter's code cells through jupytext (the .md stays the source;
# its prose is untouched), then the twins and the student notebooks are regenerated from the chapters.
FORMAT_PIPE := $(BIN)/ruff format --config ruff.toml -
format: $(INSTALLED)
	$(BIN)/jupytext --quiet --pipe "$(FORMAT_PIPE)" chapters/[0-9][0-9]_*.md templates/chapter.md
	$(BIN)/ruff format --quiet tools tests _ext grading dlbook
	$(BIN)/ruff check --quiet --fix tools tests _ext grading dlbook
	$(BIN)/python tools/sync_twins.py
	$(BIN)/python tools/make_student.py
	$(BIN)/ruff check --output-format concise chapters/[0-9][0-9]_*.ipynb student/*.ipynb tools tests _ext

# The PDFs (issue 12): the whole book and one student handout per chapter, with XeLaTeX, strictly (a missing
# glyph or an undefined reference fails); copied into both sites' pdf/ folders. Needs TeX Live (README).
pdf: book student
	$(BIN)/python tools/build_pdf.py --build-flags "$(BUILD_FLAGS)"

# The performance budget (issue 7): cold, warm and one-chapter-edit builds of a scratch copy of the repo
# under /tmp (the working tree is never touched), each chapter in a fresh kernel, the site's size, and a
# determinism check; prints the figures and writes _build/bench.json. Exits 1 when over budget.
bench: $(INSTALLED) $(MATHJAX)
	$(BIN)/python tools/bench.py --build-flags "$(BUILD_FLAGS)"

# Publish: the strict build, pushed to the gh-pages branch of $(PUBLISH_REMOTE) with ghp-import (the
# local equivalent of .github/workflows/pages.yml, which deploys the same `make book` output with Actions).
PUBLISH_REMOTE ?= origin
PUBLISH_BRANCH ?= gh-pages
publish: book pdf
	$(BIN)/ghp-import --no-jekyll --force --push --remote $(PUBLISH_REMOTE) --branch $(PUBLISH_BRANCH) \
	  --message "Publish the book built from $$(git rev-parse --short HEAD)" _build/html
	@echo "published _build/html to $(PUBLISH_REMOTE)/$(PUBLISH_BRANCH)"
