"""The organisers' results files of an NTIRE Efficient SR challenge, read as ``test_demo.py`` writes them.

``results.json`` (``test_demo.py``'s ``main``): ``{results name: {...}}``, per entry ``valid_runtime`` /
``test_runtime`` (ms of each image, one timed forward each, in the order the script ran them), ``valid_psnr`` /
``test_psnr``, their means ``valid_ave_runtime``, ``valid_ave_psnr``, ... , ``valid_memory`` / ``test_memory``
(MiB, ``torch.cuda.max_memory_allocated``), ``activations`` (M), ``num_conv``, ``flops`` (G, fvcore) and
``num_parameters`` (M). The results name is the entry's ``select_model`` name, spaces and three-digit ids as the
entry wrote them (2026: ``"         11_VSCINet"``, ``"009_RFDN_SPAN"``): :func:`read_results` keeps it as
``raw_key`` and strips it to ``key``; ``model_id`` is its leading number.

``results.txt`` (:func:`read_results_table`) is the table the script prints from that file: tab-separated
padded columns, ``Ave Time [ms] = (valid mean + test mean) / 2`` with 2 decimals (see
:mod:`slimrlfn.metrics.years`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, read_json

__all__ = ["RESULT_FIELDS", "model_id_of", "read_results", "read_results_table"]

#: The per-entry fields a results.json entry must have (a valid-only run has no test_*).
RESULT_FIELDS = ("valid_runtime", "valid_ave_runtime", "valid_ave_psnr", "flops", "num_parameters")
_OPTIONAL = ("test_runtime", "test_ave_runtime", "test_ave_psnr", "valid_psnr", "test_psnr", "valid_memory",
             "test_memory", "activations", "num_conv")
#: results.txt's column headers -> names of :func:`read_results_table`'s rows.
_TABLE_COLUMNS = {"Model": "key", "Val PSNR": "valid_psnr", "Test PSNR": "test_psnr", "Val Time [ms]": "valid_ms",
                  "Test Time [ms]": "test_ms", "Ave Time [ms]": "ave_ms", "Params [M]": "params_m",
                  "FLOPs [G]": "flops_g", "Acts [M]": "activations_m", "Mem [M]": "memory_mb", "Conv": "num_conv"}


def model_id_of(key: str) -> Optional[int]:
    """The entry id a results name starts with (``009_RFDN_SPAN`` -> 9, ``  11_VSCINet`` -> 11); None without one."""
    match = re.match(r"\s*(\d+)_", key)
    return int(match.group(1)) if match else None


def _number_list(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 0 and all(isinstance(v, (int, float)) for v in value)


def read_results(path: PathLike, what: str = "--results") -> List[Dict[str, Any]]:
    """The entries of an organisers' ``results.json``, in the file's order (see the module docstring).

    Each: ``key`` (stripped), ``raw_key``, ``model_id`` and the file's fields (absent optional ones None).
    UserError (one line) for a file that is missing, not JSON, or not shaped as ``test_demo.py`` writes it.
    """
    data = read_json(path, what)
    if not isinstance(data, dict) or not data:
        raise UserError(f"{what} {path}: expected test_demo.py's results.json, an object of entries by results name")
    entries = []
    for raw_key, value in data.items():
        missing = [name for name in RESULT_FIELDS if not isinstance(value, dict) or name not in value]
        if missing:
            raise UserError(f"{what} {path}: entry {raw_key.strip()!r} has no {', '.join(missing)}; expected the "
                            f"fields test_demo.py writes ({', '.join(RESULT_FIELDS)}, ...)")
        for name in ("valid_runtime", "test_runtime"):
            if value.get(name) is not None and not _number_list(value[name]):
                raise UserError(f"{what} {path}: entry {raw_key.strip()!r}: {name} is not a list of numbers (ms)")
        entry = {"key": raw_key.strip(), "raw_key": raw_key, "model_id": model_id_of(raw_key)}
        entry.update({name: value[name] for name in RESULT_FIELDS})
        entry.update({name: value.get(name) for name in _OPTIONAL})
        entries.append(entry)
    keys = [e["key"] for e in entries]
    if len(set(keys)) != len(keys):
        raise UserError(f"{what} {path}: two entries have the same name once stripped of spaces")
    return entries


def _cell(text: str) -> Any:
    text = text.strip()
    try:
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    except ValueError:
        return text


def read_results_table(path: PathLike, what: str = "--results_table") -> Dict[str, Dict[str, Any]]:
    """``{key: row}`` of an organisers' ``results.txt`` (keys stripped; numbers as printed, e.g. 7.74)."""
    try:
        lines = [line for line in Path(path).read_text().splitlines() if line.strip()]
    except OSError as exc:
        raise UserError(f"{what} {path}: cannot read it ({exc.strerror or exc})") from None
    if not lines:
        raise UserError(f"{what} {path}: empty; expected test_demo.py's results.txt")
    header = [cell.strip() for cell in lines[0].split("\t")]
    if header[0] != "Model" or not set(header) <= set(_TABLE_COLUMNS):
        raise UserError(f"{what} {path}: its first line is not test_demo.py's header (Model, Val PSNR, ...)")
    rows = {}
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) < len(header):
            raise UserError(f"{what} {path}: a row has {len(cells)} columns, the header {len(header)}")
        row = {_TABLE_COLUMNS[name]: (cells[i].strip() if i == 0 else _cell(cells[i])) for i, name in enumerate(header)}
        rows[row["key"]] = row
    return rows
