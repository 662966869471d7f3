"""``python -m slimrlfn.evaluate``: the same as ``slimrlfn eval`` (same flags, one-line errors, exit status 2)."""
from slimrlfn.core.entry import run_single
from slimrlfn.evaluate.command import add_arguments, run_from_args

if __name__ == "__main__":
    raise SystemExit(run_single("eval", add_arguments, run_from_args,
                                description="PSNR/SSIM/runtime as NTIRE's test_demo.py"))
