"""The NTIRE Efficient SR challenges year by year: one record per year, the one place for every weight, gate and
baseline that the score, the field study, the factsheet, the figures and the pruning explorer use.

Sources, read for each year (nothing here is inferred from another year):

- 2022: ``README.md`` of ``ofsoundof/NTIRE2022_ESR`` (commit e95ba4a): three tracks, IMDN the reference, a
  Titan Xp; no weighted score, no PSNR number, no baseline figures in it.
- 2023: ``README.md`` and ``test_demo.py`` of ``ofsoundof/NTIRE2023_ESR`` (commit a6d76c7): the README gives no
  rules; ``test_demo.py``'s entry 0 is the RFDN baseline.
- 2024: ``README.md`` of ``Amazingren/NTIRE2024_ESR`` (the copy in ``$SLIMRLFN_SHARED/ntire2024_esr``).
- 2025: ``README.md`` of ``Amazingren/NTIRE2025_ESR`` (commit b69fb66).
- 2026: ``README.md`` of ``Amazingren/NTIRE2026_ESR`` (the copy in ``$SLIMRLFN_SHARED/ntire2026_esr``).

Every year's ``test_demo.py`` writes ``results.txt`` the same way: ``Ave Time = (valid mean + test mean) / 2``
(each the mean over its images of one timed forward), runtimes and FLOPs with 2 decimals, params with 3, PSNR
with 2 (:data:`TABLE_DECIMALS`). A fact the sources do not give is None, with a note saying so.

Field documents (``slimrlfn field``) written before these records kept the 2026 ranking under key names with the
year (``score_cold_2026``) and the 2024 one without; :func:`year_value` reads both those and the per-year
records (``entry["years"][year]``) that replace them.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["LEGACY_SUFFIX", "MEASURES", "TABLE_DECIMALS", "YEARS", "Baseline", "ChallengeYear", "SubTrack",
           "challenge_year", "document_years", "scored_year", "weighting_years", "year_in_text",
           "year_of_repository", "year_value"]

#: The three efficiency measures, in the score's order (runtime, FLOPs, params).
MEASURES = ("runtime_ms", "flops_g", "params_m")
#: The decimals of ``results.txt`` as every year's ``test_demo.py`` formats it (``3.2f``, ``2.2f``, ``2.3f``).
TABLE_DECIMALS: Dict[str, int] = {"runtime_ms": 2, "flops_g": 2, "params_m": 3, "psnr_db": 2}
#: How field documents before the year records named a year's values: ``score_cold`` (2024), ``score_cold_2026``.
LEGACY_SUFFIX: Dict[str, str] = {"2024": "", "2026": "_2026"}


@dataclass(frozen=True)
class Baseline:
    """The reference solution of a year and the figures the README states for it (None where it states none)."""

    name: str
    runtime_ms: Optional[float] = None
    runtime_valid_ms: Optional[float] = None
    runtime_test_ms: Optional[float] = None
    flops_g: Optional[float] = None
    params_m: Optional[float] = None
    psnr_valid: Optional[float] = None
    psnr_test: Optional[float] = None
    runs_stated: Optional[int] = None  # "the average of N runs", as the README says

    def measures(self) -> Optional[Tuple[float, float, float]]:
        """(runtime ms, FLOPs G, params M), or None when one is not stated."""
        values = (self.runtime_ms, self.flops_g, self.params_m)
        return None if any(v is None for v in values) else (float(values[0]), float(values[1]), float(values[2]))


@dataclass(frozen=True)
class SubTrack:
    """A sub-track: ranked by ``measure`` (lowest first), open to entries whose ``constraints`` measures are at
    most the baseline's (and that pass the PSNR gates)."""

    name: str
    measure: str
    constraints: Tuple[str, ...]


_SUB_TRACKS = (SubTrack("runtime", "runtime_ms", ("params_m", "flops_g")),
               SubTrack("flops", "flops_g", ("runtime_ms", "params_m")),
               SubTrack("params", "params_m", ("runtime_ms", "flops_g")))


@dataclass(frozen=True)
class ChallengeYear:
    """The rules of one year's challenge (see the module docstring for where each comes from)."""

    year: str
    title: str
    repository: str
    source: str
    baseline: Baseline
    gpu: Optional[str] = None
    gpu_short: Optional[str] = None
    weights: Optional[Tuple[float, float, float]] = None  # runtime, FLOPs, params
    gates: Optional[Dict[str, float]] = None  # PSNR gates (dB, RGB, border 4) by split
    runs: Optional[int] = None  # runs of every entry the organisers average
    flops_counter: Optional[str] = None
    sub_tracks: Tuple[SubTrack, ...] = ()
    runtime_average: str = "(valid mean + test mean) / 2"
    notes: Tuple[str, ...] = field(default=())

    def to_json(self) -> Dict[str, Any]:
        """The record as JSON-ready data."""
        data = asdict(self)
        data["weights"] = list(self.weights) if self.weights else None
        return data

    def device_text(self) -> str:
        """What the figures of the organisers' data say about where it was measured."""
        return f"{self.gpu_short or 'GPU not stated'}, organisers' run, {self.year}"

    def formula(self) -> str:
        """The main-track score as text, with this year's weights and baseline."""
        if self.weights is None:
            return f"no weighted score is known for {self.year}"
        w = self.weights
        name = self.baseline.name
        return (f"{_num(w[0])} exp(2 T/T_{name}) + {_num(w[1])} exp(2 F/F_{name}) + {_num(w[2])} exp(2 P/P_{name})")


def _num(value: float) -> str:
    return f"{value:g}"


_SAME_RULES_NOTE = ("the README also asks for improvements in more than one aspect over the baseline "
                    "for the final ranking, which no formula states")

#: The records, by year.
YEARS: Dict[str, ChallengeYear] = {
    "2022": ChallengeYear(
        year="2022", title="NTIRE 2022 Efficient Super-Resolution", repository="ofsoundof/NTIRE2022_ESR",
        source="README.md at commit e95ba4a", baseline=Baseline("IMDN"), gpu="NVIDIA Titan Xp", gpu_short="Titan Xp",
        flops_counter="utils.model_summary.get_model_flops",
        notes=("three tracks (runtime; parameters and FLOPs; overall: parameters, FLOPs, activations, runtime, "
               "memory), no weighted score in the README: weights None",
               "PSNR: 'maintain or improve over IMDN', no number in the README: gates None",
               "the README gives no baseline runtime, FLOPs or parameters, nor how many runs are averaged")),
    "2023": ChallengeYear(
        year="2023", title="NTIRE 2023 Efficient Super-Resolution", repository="ofsoundof/NTIRE2023_ESR",
        source="README.md and test_demo.py at commit a6d76c7", baseline=Baseline("RFDN"),
        flops_counter="utils.model_summary.get_model_flops",
        notes=("the README states no ranking rules, GPU, PSNR gates or baseline figures: all None",
               "baseline: test_demo.py's entry 0, 'RFDN baseline, AIM 2020 Efficient SR Challenge winner'")),
    "2024": ChallengeYear(
        year="2024", title="NTIRE 2024 Efficient Super-Resolution", repository="Amazingren/NTIRE2024_ESR",
        source="README.md (the copy in $SLIMRLFN_SHARED/ntire2024_esr)",
        baseline=Baseline("RLFN", runtime_ms=13.54, flops_g=19.67, params_m=0.317, psnr_valid=26.96,
                          psnr_test=27.07, runs_stated=5),
        gpu="NVIDIA GeForce RTX 3090", gpu_short="RTX 3090",
        weights=(0.7, 0.15, 0.15),  # README 2024, Step 4: Score_Final
        gates={"valid": 26.90, "test": 26.99}, runs=5, flops_counter="fvcore FlopCountAnalysis",
        sub_tracks=_SUB_TRACKS,
        notes=(_SAME_RULES_NOTE,
               "the repository's log holds 3 runs of the baseline, not the 5 the README averages")),
    "2025": ChallengeYear(
        year="2025", title="NTIRE 2025 Efficient Super-Resolution", repository="Amazingren/NTIRE2025_ESR",
        source="README.md at commit b69fb66",
        baseline=Baseline("EFDN", runtime_ms=16.69, runtime_valid_ms=18.77, runtime_test_ms=14.61, flops_g=16.70,
                          params_m=0.276, psnr_valid=26.93, psnr_test=27.01, runs_stated=5),
        gpu="NVIDIA RTX A6000", gpu_short="RTX A6000",
        weights=(0.7, 0.15, 0.15),  # README 2025, Step 4: Score_Final
        gates={"valid": 26.90, "test": 26.99}, runs=5, flops_counter="fvcore FlopCountAnalysis",
        sub_tracks=_SUB_TRACKS,
        notes=(_SAME_RULES_NOTE,
               "results.txt of the repository holds only its header; NTIRE2025-EfficientSR.log holds 10 runs of "
               "the baseline")),
    "2026": ChallengeYear(
        year="2026", title="NTIRE 2026 Efficient Super-Resolution", repository="Amazingren/NTIRE2026_ESR",
        source="README.md (the copy in $SLIMRLFN_SHARED/ntire2026_esr)",
        baseline=Baseline("SPAN", runtime_ms=7.74, runtime_valid_ms=8.00, runtime_test_ms=7.47, flops_g=9.83,
                          params_m=0.151, psnr_valid=26.94, psnr_test=27.01, runs_stated=5),
        gpu="NVIDIA RTX A6000", gpu_short="RTX A6000",
        weights=(0.8, 0.1, 0.1),  # README 2026, step 4: Score_Final
        gates={"valid": 26.90, "test": 26.99}, runs=5, flops_counter="fvcore FlopCountAnalysis",
        sub_tracks=_SUB_TRACKS,
        notes=("sub-track constraints as the README's table states them: the other two measures and PSNR no worse "
               "than the baseline's",)),
}


def challenge_year(year: Any, what: str = "--year") -> ChallengeYear:
    """The record of ``year`` (``2026`` or ``"2026"``); UserError naming ``what`` for a year without one."""
    record = YEARS.get(str(year).strip())
    if record is None:
        raise UserError(f"{what} {year}: no NTIRE Efficient SR record for that year; expected one of "
                        f"{', '.join(YEARS)}")
    return record


def scored_year(year: Any, what: str = "--year") -> ChallengeYear:
    """:func:`challenge_year`, refusing a year whose score weights or baseline figures are not known."""
    record = challenge_year(year, what)
    if record.weights is None or record.baseline.measures() is None:
        known = ", ".join(y for y, r in YEARS.items() if r.weights and r.baseline.measures())
        raise UserError(f"{what} {year}: its score is not known ({record.notes[0] if record.notes else 'no weights'});"
                        f" expected a year with weights and baseline figures: {known}")
    return record


def weighting_years() -> Tuple[str, ...]:
    """One year per distinct set of weights, the first that used it (2024 for 0.7/0.15/0.15, then 2026)."""
    seen: List[Tuple[float, float, float]] = []
    years = []
    for year, record in YEARS.items():
        if record.weights is not None and record.weights not in seen:
            seen.append(record.weights)
            years.append(year)
    return tuple(years)


def year_in_text(text: str) -> Optional[str]:
    """The first year with a record named in ``text`` as ``NTIRE 2026`` / ``NTIRE2026`` / ``ntire2026`` (any case);
    None when none is."""
    for match in re.finditer(r"NTIRE[ _-]?(20\d\d)", text, flags=re.IGNORECASE):
        if match.group(1) in YEARS:
            return match.group(1)
    return None


def year_of_repository(folder: PathLike) -> Optional[str]:
    """The challenge year of a challenge repository: from its README's title, else from ``test_demo.py`` (its log
    name ``NTIRE2026-EfficientSR``); None when neither names a year with a record."""
    for name in ("README.md", "test_demo.py"):
        path = Path(folder) / name
        try:
            text = path.read_text(errors="replace")[:20000]
        except OSError:
            continue
        year = year_in_text(text)
        if year is not None:
            return year
    return None


def document_years(doc: Mapping[str, Any]) -> Tuple[str, List[str]]:
    """(primary year, every year ranked) of a field document; older documents: ``("2024", ["2024", "2026"])``."""
    years = doc.get("years")
    if years:
        return str(doc.get("year") or years[0]), [str(y) for y in years]
    return "2024", list(LEGACY_SUFFIX)


def year_value(record: Mapping[str, Any], name: str, year: str, default: Any = None) -> Any:
    """``record["years"][year][name]`` (a field entry, a pair row, a ranking), else the older key with the year in
    its name (:data:`LEGACY_SUFFIX`), else ``default``."""
    years = record.get("years")
    if isinstance(years, Mapping):
        return years.get(str(year), {}).get(name, default)
    suffix = LEGACY_SUFFIX.get(str(year))
    return default if suffix is None else record.get(f"{name}{suffix}", default)


def _check(records: Sequence[ChallengeYear]) -> None:
    """Import-time sanity of the table: weights sum to 1, gates name known splits."""
    for record in records:
        if record.weights is not None and abs(sum(record.weights) - 1.0) > 1e-9:
            raise ValueError(f"YEARS[{record.year}]: weights {record.weights} do not sum to 1")
        if record.gates is not None and not set(record.gates) <= {"valid", "test"}:
            raise ValueError(f"YEARS[{record.year}]: gates {record.gates} name an unknown split")


_check(list(YEARS.values()))
