"""slimrlfn: a research workbook for efficient x4 super-resolution after NTIRE 2024 SlimRLFN."""
__version__ = "0.1.0"
__all__ = ["__version__"]
