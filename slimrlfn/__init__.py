"""slimrlfn: a research workbook for efficient x4 super-resolution after NTIRE 2024 SlimRLFN.

Subpackages by job, in layers (each imports only from the layers below it): ``core`` < ``arch`` <
``metrics`` < ``data`` < ``deploy``, ``train`` < ``evaluate``, ``prune``, ``timing`` < ``figures`` <
``factsheet`` < ``workbook`` < ``cli``. Nothing is imported here, so ``import slimrlfn`` is instant.
"""
__version__ = "0.1.0"
__all__ = ["__version__"]
