"""Sphinx configuration of the workbook's book: Markdown pages (MyST) and notebooks (myst-nb), built by `make docs`.

Sphinx with MyST and myst-nb rather than Jupyter Book: Jupyter Book 2 is a separate Node-based tool (mystmd), and
Jupyter Book 1 is a thin layer over these same two Sphinx extensions; plain Sphinx keeps the build one `pip` package
set and one command, with warnings as errors in the tests. Notebooks are never executed here
(``nb_execution_mode = "off"``): the pages under ``notebooks/`` are the executed copies of a quick
``make workbook`` run that ``make docs`` copies in (see ``docs/README`` in the Makefile's ``docs`` target).
"""
project = "slimrlfn"
author = "the slimrlfn workbook"
copyright = "the slimrlfn authors, MIT licence"

extensions = ["myst_nb"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "figures/*.md", "Thumbs.db", ".DS_Store"]
html_theme = "alabaster"
html_title = "slimrlfn: the SlimRLFN workbook"
html_theme_options = {"description": "efficient x4 super-resolution, measured honestly", "page_width": "1200px",
                      "sidebar_width": "260px"}
suppress_warnings = ["mystnb.unknown_mime_type"]
