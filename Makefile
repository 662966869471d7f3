# The workbook's commands. Each target creates the virtual environment (.venv) when it is missing.
# TORCH_SPEC pins PyTorch before anything else is installed: on a CPU machine with a local wheel it
# is taken from there; on a GPU machine pip takes the CUDA build of the same release from PyPI.
PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
# Packages of challenge entries, installed without their dependencies (which would pull torchvision and a CUDA torch);
# the same pins as slimrlfn.core.optional.NO_DEPS_PACKAGES (a test checks they agree).
CHALLENGE_PACKAGES ?= timm==1.0.31 basicsr==1.4.2
VENV ?= .venv
# A relative SLIMRLFN_MODEL_ZOO names a folder of the repository root (where make runs); the notebooks run in notebooks/.
ifneq ($(strip $(SLIMRLFN_MODEL_ZOO)),)
export SLIMRLFN_MODEL_ZOO := $(abspath $(SLIMRLFN_MODEL_ZOO))
endif
BIN := $(VENV)/bin
MODE ?= quick
DATA_DIR ?=
FRESH ?=
ONLY ?=

.PHONY: workbook test test-fast lab lab-check hooks sample readme-figures docs clean-venv

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation $(CHALLENGE_PACKAGES)
	touch $@

## The main job: every notebook in order through papermill (MODE=quick|full, DATA_DIR=... optional; FRESH=1 measures
## everything again instead of resuming what an earlier run left in runs/workbook/results; ONLY="01 03" runs those).
workbook: $(BIN)/.installed
	$(BIN)/slimrlfn workbook --mode $(MODE) $(if $(DATA_DIR),--data_dir $(DATA_DIR),) $(if $(FRESH),--fresh,) \
		$(if $(ONLY),--only $(ONLY),)

## The tests (unit tests first, notebooks through papermill last).
test: $(BIN)/.installed
	$(BIN)/python -m pytest -ra --durations=25

## The README's figures: copy those of the last workbook run (figures/, its summary and factsheet table) to docs/figures/.
README_FIGURES := 05_tradeoff 05_pruning_trajectory 05_latency_traces 05_cold_vs_warm 03_sr_crops 04b_flops_vs_speedup
readme-figures:
	@test -f runs/workbook/summary.json || { echo "runs/workbook/summary.json: no workbook run yet (make workbook first)"; exit 1; }
	mkdir -p docs/figures
	cp $(README_FIGURES:%=figures/%.png) docs/figures/
	cp runs/workbook/summary.json docs/figures/workbook_summary.json
	cp runs/workbook/results/factsheet/factsheet.md docs/figures/factsheet.md

## The book: Sphinx + MyST + myst-nb over docs/, warnings as errors, into docs/_build/html; the notebooks are rendered
## from the last `make workbook` run (docs/prepare.py copies them in, this machine's folders written as the reader's).
docs: $(BIN)/.installed
	$(BIN)/python docs/prepare.py
	$(BIN)/python -m sphinx -W --keep-going -q -b html -d docs/_build/doctrees docs docs/_build/html
	@echo "the book: docs/_build/html/index.html"

## Only the fast unit tests (no notebooks).
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -ra -m "not notebook"

## The embedded default data set (scikit-image's colour photos) under data/sample.
sample: $(BIN)/.installed
	$(BIN)/slimrlfn data sample --out_dir data/sample

## JupyterLab with the project's kernel registered and ipywidgets working (LAB_ARGS=--no-browser ... optional).
lab: lab-check
	$(BIN)/jupyter lab notebooks/ $(LAB_ARGS)

## What `make lab` needs, without starting it: the kernel "Python (slimrlfn)" registered for this user,
## ipywidgets importable in the venv and its JupyterLab extension enabled (notebook 02's step browser).
lab-check: $(BIN)/.installed
	@$(BIN)/python -c "import ipywidgets, jupyterlab_widgets" || \
		{ echo "ipywidgets missing in $(VENV): $(BIN)/python -m pip install -e '.[notebooks]'"; exit 1; }
	@$(BIN)/jupyter labextension list 2>&1 | grep -q "jupyterlab-manager.*enabled" || \
		{ echo "the ipywidgets JupyterLab extension (jupyterlab_widgets) is not enabled in $(VENV)"; exit 1; }
	$(BIN)/python -m ipykernel install --user --name slimrlfn --display-name "Python (slimrlfn)"

# The git filter of `make hooks` (tests/notebooks/test_hygiene.py checks that the committed notebooks pass through it
# unchanged): outputs and execution counts go, cell ids stay, and so does the metadata JupyterLab and papermill add.
NBSTRIPOUT_FLAGS := --keep-id --extra-keys "metadata.papermill cell.metadata.papermill \
	metadata.language_info.codemirror_mode metadata.language_info.file_extension metadata.language_info.mimetype \
	metadata.language_info.nbconvert_exporter metadata.language_info.pygments_lexer metadata.language_info.version"

## Strip notebook outputs and execution counts when they are staged: the git filter named in .gitattributes
## (nbstripout), and notebook diffs shown as the stripped source.
hooks: $(BIN)/.installed
	@$(BIN)/python -c "import nbstripout" || \
		{ echo "nbstripout missing in $(VENV): $(BIN)/python -m pip install -e '.[dev]'"; exit 1; }
	git config filter.nbstripout.clean '"$(abspath $(BIN))/python" -m nbstripout $(NBSTRIPOUT_FLAGS)'
	git config filter.nbstripout.smudge cat
	git config filter.nbstripout.required true
	git config diff.ipynb.textconv '"$(abspath $(BIN))/python" -m nbstripout $(NBSTRIPOUT_FLAGS) -t'
	@echo "git filter nbstripout installed: notebooks are committed without outputs (undo: git config --remove-section filter.nbstripout; git config --remove-section diff.ipynb)"

clean-venv:
	rm -rf $(VENV)
