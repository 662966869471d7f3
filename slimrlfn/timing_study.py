"""``python -m slimrlfn.timing_study``: the name earlier releases gave ``python -m slimrlfn.timing`` (``slimrlfn time``)."""
import runpy

__all__: list = []

if __name__ == "__main__":
    runpy.run_module("slimrlfn.timing", run_name="__main__", alter_sys=True)
