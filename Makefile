# Physics of Learning: one Makefile for students, lecturers and CI.
#   make book     install everything, build the HTML book into _build/html
#   make test     install everything, run the whole test suite (what CI runs)
#   make chapter CH=book/01_foundations/01_linear_models.py   re-run one chapter, store its outputs, re-check it
#   make robustness   every chapter at seeds 1-5 on an emulated other CPU: benchmarks/robustness.md (not in CI)
#   make mutation [MODULES="course_utils.theory.kernels ..."]   mutation testing (mutmut): benchmarks/mutation.md (not in CI)
#   make student  the student notebooks (solutions removed) of every chapter, in student/ (make chapter does its own)
#   make remove-chapter CH=book/<part>/<chapter>   take a chapter out of this edition (files, _toc.yml, landing page)
# Everything is installed into a virtual environment in .venv (override with VENV=...).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# PyTorch is installed before anything else, so that nothing pulls a CUDA build by accident.
# Where there is no NVIDIA GPU we ask for the CPU build (about 200 MB instead of several GB).
# GPU users: `make install TORCH_CPU=0` (or install torch yourself first; an installed torch is kept).
TORCH_VERSION ?= 2.13.0
TORCH_CPU ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo 0 || echo 1)
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
# Notebooks run in parallel, one per worker, each on one CPU thread (see course_utils.device).
WORKERS ?= 2
# The tests execute every chapter under a configuration other than the one that stored its
# outputs: another seed, and this CPU made to compute like another one (PyTorch's AVX2 kernels,
# MKL's AVX2 path, OpenBLAS's Haswell kernels). `make test FOREIGN=` runs them as stored.
FOREIGN ?= COURSE_SEED=1 ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 OPENBLAS_CORETYPE=Haswell
# nbval compares only the cells tagged `nbval-check-output` (deterministic on any CPU and seed);
# every cell is executed, and a failed check (an exception) fails the test.
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# The stored run of a chapter: seed 0, strict checks, text progress bars, explorers drawn statically
# (no widget state in the stored notebook; see course_utils.explore).
STORED := COURSE_SEED=0 COURSE_CHECKS=strict COURSE_PROGRESS=text COURSE_WIDGETS=off

.PHONY: install book test unit notebooks chapter robustness mutation remove-chapter student sync clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt constraints-book.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if $(PY) -c "import torch" 2>/dev/null; then \
		echo "torch is already installed: keeping it"; \
	elif [ "$(TORCH_CPU)" = "1" ]; then \
		echo "no GPU found: installing the CPU build of torch $(TORCH_VERSION)"; \
		if $(PY) -c "import urllib.request as u; u.urlopen('$(TORCH_CPU_INDEX)/', timeout=10)" 2>/dev/null; then \
			$(PY) -m pip install "torch==$(TORCH_VERSION)" --extra-index-url $(TORCH_CPU_INDEX); \
		else \
			echo "$(TORCH_CPU_INDEX) is out of reach: taking torch $(TORCH_VERSION) from the configured pip sources"; \
			echo "(a machine without a local CPU wheel would get the CUDA build: see README.md)"; \
			$(PY) -m pip install "torch==$(TORCH_VERSION)"; \
		fi; \
	else \
		$(PY) -m pip install "torch==$(TORCH_VERSION)"; \
	fi
	$(PY) -m pip install -r requirements.txt -c constraints-book.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	touch $@

book: install
	$(VENV)/bin/jupyter-book build . -W --keep-going
	$(PY) tools/check_build.py
	@echo "The book is at _build/html/index.html"

# The whole suite: the book builds from the stored outputs with warnings as errors, then one
# pytest run does the unit tests, the theory-vs-experiment tests, the notebook checks (paired
# source, stored executed, fingerprint fresh) and nbval (every chapter re-executed once, under the
# FOREIGN configuration, its checks raising on failure, its tagged cells compared).
test: install
	@status=0; \
	$(VENV)/bin/jupyter-book build . -W --keep-going && $(PY) tools/check_build.py || status=1; \
	env $(FOREIGN) COURSE_CHECKS=strict COURSE_WIDGETS=off $(PY) -m pytest tests book $(NBVAL) -n $(WORKERS) --dist loadfile || status=1; \
	exit $$status

unit: install
	$(PY) -m pytest tests

notebooks: install
	env $(FOREIGN) COURSE_CHECKS=strict COURSE_WIDGETS=off $(PY) -m pytest book $(NBVAL) -n $(WORKERS) --dist loadfile

# Re-run one chapter from its text source (once), store the outputs and the fingerprint in the
# notebook, then run the notebook checks and the chapter's own tests (tests/ files naming it).
chapter: install
	@test -n "$(CH)" || (echo "usage: make chapter CH=book/<part>/<chapter>.py" && exit 2)
	env $(STORED) $(VENV)/bin/jupytext --to ipynb --execute $(CH)
	$(PY) tools/clean_notebook.py $(basename $(CH)).ipynb
	$(VENV)/bin/jupytext --sync $(CH)
	$(PY) tools/make_student_notebooks.py $(basename $(CH)).ipynb
	$(PY) -m pytest -q tests/test_notebooks.py -k "$(notdir $(basename $(CH)))"
	@tests=$$(grep -l "$(basename $(CH))" tests/test_*.py | grep -v test_notebooks.py); \
	if [ -n "$$tests" ]; then $(PY) -m pytest -q $$tests; else echo "no tests/ file names $(basename $(CH))"; fi

# Every chapter at seeds 1-5 on the emulated CPU, two at a time: benchmarks/robustness.md.
# (About 12 chapters x 5 seeds x 1 min of one core; not part of CI.)
robustness: install
	$(PY) tools/robustness.py --seeds 1-5 --workers $(WORKERS)

# Mutation testing with mutmut of the theory, checks, fits, ensemble and train modules (or MODULES=...),
# one module at a time in a scratch copy, MAX_CHILDREN mutants at once: benchmarks/mutation.{json,md}.
# (Tens of minutes to hours for the whole scope; not part of CI. See tools/mutation.py.)
MODULES ?=
MAX_CHILDREN ?= 1
mutation: install
	@$(PY) -c "import mutmut" 2>/dev/null || $(PY) -m pip install "mutmut>=3.8,<4"
	$(PY) tools/mutation.py --max-children $(MAX_CHILDREN) $(if $(MODULES),--modules $(MODULES))

# Take chapters out of this edition: delete their files, their _toc.yml entries and their lines on
# the landing page. Links from other chapters then read "(not in this edition)" (_ext/course_edition.py).
remove-chapter:
	@test -n "$(CH)" || (echo "usage: make remove-chapter CH=book/<part>/<chapter>" && exit 2)
	@$(MAKE) --no-print-directory install
	$(PY) tools/remove_chapter.py $(CH)

# The student notebooks: every chapter of _toc.yml without its solutions, an empty answer cell per
# exercise, no outputs (tools/make_student_notebooks.py). Run after `make chapter` or editing a chapter.
student: install
	$(PY) tools/make_student_notebooks.py

sync: install
	$(VENV)/bin/jupytext --sync book/*/*.py

clean:
	rm -rf _build
