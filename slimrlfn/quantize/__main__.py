"""``python -m slimrlfn.quantize``: the same as ``slimrlfn qat`` (same flags, one-line errors, exit status 2)."""
from slimrlfn.core.entry import run_single
from slimrlfn.quantize.command import add_arguments, run_from_args

if __name__ == "__main__":
    raise SystemExit(run_single("qat", add_arguments, run_from_args,
                                description="quantization-aware fine-tuning to an int8 OpenVINO IR"))
