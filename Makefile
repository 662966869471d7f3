# The workbook's commands. Each target creates the virtual environment (.venv) when it is missing.
# TORCH_SPEC pins PyTorch before anything else is installed: on a CPU machine with a local wheel it
# is taken from there; on a GPU machine pip takes the CUDA build of the same release from PyPI.
PYTHON ?= python3
TORCH_SPEC ?= torch==2.13.0
VENV ?= .venv
BIN := $(VENV)/bin
MODE ?= quick
DATA_DIR ?=

.PHONY: workbook test test-fast lab sample clean-venv

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

## The main job: every notebook in order through papermill (MODE=quick|full, DATA_DIR=... optional).
workbook: $(BIN)/.installed
	$(BIN)/slimrlfn workbook --mode $(MODE) $(if $(DATA_DIR),--data_dir $(DATA_DIR),)

## The tests (unit tests first, notebooks through papermill last).
test: $(BIN)/.installed
	$(BIN)/python -m pytest -ra

## Only the fast unit tests (no notebooks).
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -ra -m "not notebook"

## The embedded default data set (scikit-image's colour photos) under data/sample.
sample: $(BIN)/.installed
	$(BIN)/slimrlfn data sample --out_dir data/sample

## JupyterLab with the project's kernel registered.
lab: $(BIN)/.installed
	$(BIN)/python -m ipykernel install --user --name slimrlfn --display-name "Python (slimrlfn)"
	$(BIN)/jupyter lab notebooks/

clean-venv:
	rm -rf $(VENV)
