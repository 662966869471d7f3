"""int8 by quantization-aware fine-tuning: :mod:`~slimrlfn.quantize.qat` (NNCF QAT of the fused network, resumable,
exported as an OpenVINO IR that ``--backend openvino_int8 --int8_model`` reads) and
:mod:`~slimrlfn.quantize.command` (``slimrlfn qat``); :mod:`~slimrlfn.quantize.sensitivity` ranks the convolutions by
the int8 drop each costs, to choose which to keep in fp32 (``slimrlfn int8-sensitivity``,
:mod:`~slimrlfn.quantize.sensitivity_command`). Post-training quantization, the quick option, is
:mod:`slimrlfn.deploy.int8`.
"""
from slimrlfn.quantize.qat import QatSettings, prepare_qat, qat_record, run_qat

__all__ = ["QatSettings", "prepare_qat", "qat_record", "run_qat"]
