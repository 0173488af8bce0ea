# Physics of Learning: one Makefile for students, lecturers and CI.
#   make book     install everything, build the HTML book into _build/html
#   make test     install everything, run the whole test suite (what CI runs)
#   make chapter CH=book/01_foundations/01_linear_models.py   re-run one chapter, store its outputs, re-check it
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

.PHONY: install book test unit notebooks chapter sync clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
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
	$(PY) -m pip install -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	touch $@

book: install
	$(VENV)/bin/jupyter-book build . -W --keep-going
	$(PY) tools/check_build.py
	@echo "The book is at _build/html/index.html"

# The whole suite: the book builds from the stored outputs with warnings as errors, then one
# pytest run does the unit tests, the theory-vs-experiment tests, the notebook/source pairing
# checks, and nbval (every chapter re-executed once, its text outputs compared).
test: install
	@status=0; \
	$(VENV)/bin/jupyter-book build . -W --keep-going && $(PY) tools/check_build.py || status=1; \
	$(PY) -m pytest tests book --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -n $(WORKERS) --dist loadfile || status=1; \
	exit $$status

unit: install
	$(PY) -m pytest tests

notebooks: install
	$(PY) -m pytest book --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -n $(WORKERS) --dist loadfile

# Re-run one chapter from its text source, store the outputs in the notebook, then check it.
chapter: install
	@test -n "$(CH)" || (echo "usage: make chapter CH=book/<part>/<chapter>.py" && exit 2)
	$(VENV)/bin/jupytext --to ipynb --execute $(CH)
	$(PY) tools/clean_notebook.py $(basename $(CH)).ipynb
	$(VENV)/bin/jupytext --sync $(CH)
	$(PY) -m pytest $(basename $(CH)).ipynb --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
	$(PY) -m pytest tests/test_notebooks.py

sync: install
	$(VENV)/bin/jupytext --sync book/*/*.py

clean:
	rm -rf _build
