"""``slimrlfn eval`` against the official NTIRE ``test_demo.py``: whole processes, paired, on the same data.

For each data set, rounds of three whole processes in a shuffled order each round:

- **official**: the challenge repository's own ``test_demo.py`` from where it is kept (default
  ``$SLIMRLFN_SHARED/ntire2024_esr``), run on the CPU by ``bench/timing/official_on_cpu.py`` (its CUDA calls shimmed
  at run time, nothing copied);
- **default**: ``slimrlfn eval --model_id N`` as a user types it (backend ``auto``, SR images written);
- **eager**: the same with ``--backend eager``, the path the challenge runs.

Ratios are taken within a round (ours / official), so a slow minute falls on both; the report gives the median
ratio and its range over the rounds, with the targets of issue 16: default <= 0.80x and eager <= 1.05x on every
data set. Also paired: ``slimrlfn --help`` against ``python -c "import torch"`` (target <= 0.5x).

Before the rounds each command runs once with empty caches (``SLIMRLFN_CACHE_DIR`` emptied before each: the counts
and the ONNX export are made then), reported apart as the first run; the rounds run with the caches filled, as a
user's second and later runs do. The PSNR of every command is read from its results: eager's must equal the
official's to the last bit (the same path); the default path's difference is reported.

Data sets: Set14 (``$SLIMRLFN_SHARED/datasets/Set14``, linked into the NTIRE layout), the embedded sample
(``slimrlfn data sample``), and DIV2K-sized synthetic pairs (HR 2040x1356, MATLAB-bicubic LR 510x339, made once and
kept in ``--out``). Every run is appended to ``--out/runs.jsonl`` as it finishes; a rerun with the same settings
skips what is there (an interrupted bench resumes). ``report.json`` and ``report.md`` are written atomically.

    python bench/timing/vs_test_demo.py [--rounds 5] [--model_id 21] [--sets set14 sample div2k] [--div2k_images 10]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[2]  # bench/timing/ -> the checkout
SHARED = Path(os.environ.get("SLIMRLFN_SHARED", ROOT.parent / "shared"))
COMMANDS = ("official", "default", "eager")
TARGETS = {"default": 0.80, "eager": 1.05, "help": 0.5}


def _fail(message: str) -> None:
    print(f"vs_test_demo.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


# --------------------------------------------------------------------------- data


def _link_set14(folder: Path) -> Path:
    source = SHARED / "datasets" / "Set14"
    if not (source / "HR").is_dir():
        _fail(f"{source}: no Set14 there (HR/ and LR_bicubic/X4/); set SLIMRLFN_SHARED or drop set14 from --sets")
    hr_dir, lr_dir = folder / "DIV2K_LSDIR_valid_HR", folder / "DIV2K_LSDIR_valid_LR"
    if not hr_dir.is_dir():
        staged = folder.with_name(folder.name + ".partial")
        shutil.rmtree(staged, ignore_errors=True)
        (staged / hr_dir.name).mkdir(parents=True)
        (staged / lr_dir.name).mkdir()
        for hr in sorted((source / "HR").glob("*.png")):
            os.symlink(hr.resolve(), staged / hr_dir.name / hr.name)
            os.symlink((source / "LR_bicubic" / "X4" / f"{hr.stem}x4.png").resolve(), staged / lr_dir.name / f"{hr.stem}x4.png")
        os.replace(staged, folder)
    return folder


def _synthetic_div2k(folder: Path, count: int) -> Path:
    if (folder / "DIV2K_LSDIR_valid_LR").is_dir() and len(list((folder / "DIV2K_LSDIR_valid_LR").glob("*.png"))) == count:
        return folder
    from eval_overhead import synthetic_hr  # bench/timing/eval_overhead.py: this script's folder is on sys.path
    from slimrlfn.data.pairs import write_pairs

    staged = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staged, ignore_errors=True)
    print(f"making {count} DIV2K-sized synthetic pairs (MATLAB bicubic, about 9 s each, once)", flush=True)
    write_pairs(((f"{i:04d}", synthetic_hr(i)) for i in range(count)), staged, "valid", 4)
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staged, folder)
    return folder


def _sample(folder: Path) -> Path:
    if not (folder / "DIV2K_LSDIR_valid_LR").is_dir():
        from slimrlfn.data.sample import make_sample

        staged = folder.with_name(folder.name + ".partial")
        shutil.rmtree(staged, ignore_errors=True)
        make_sample(staged)
        os.replace(staged, folder)
    return folder


def prepare(names: List[str], data_root: Path, div2k_images: int) -> Dict[str, Path]:
    makers = {"set14": lambda: _link_set14(data_root / "set14"), "sample": lambda: _sample(data_root / "sample"),
              "div2k": lambda: _synthetic_div2k(data_root / f"div2k_{div2k_images}", div2k_images)}
    return {name: makers[name]() for name in names}


# --------------------------------------------------------------------------- runs


def command_line(kind: str, data: Path, work: Path, args: argparse.Namespace) -> List[str]:
    python = sys.executable
    if kind == "official":
        return [python, str(ROOT / "bench" / "timing" / "official_on_cpu.py"), "--repo", str(args.repo), "--work_dir",
                str(work / "official"), "--", "--data_dir", str(data), "--save_dir", str(work / "official" / "results"),
                "--model_id", str(args.model_id)]
    if kind == "help":
        return [python, "-m", "slimrlfn", "--help"]
    if kind == "import_torch":
        return [python, "-c", "import torch"]
    words = [python, "-m", "slimrlfn", "eval", "--model_id", str(args.model_id), "--data_dir", str(data),
             "--save_dir", str(work / kind), "--overwrite"]
    return words + (["--backend", "eager"] if kind == "eager" else [])


def timed_run(words: List[str], env: Dict[str, str]) -> float:
    """Wall seconds of one whole process; exits with its last error line when it fails."""
    begin = time.perf_counter()
    done = subprocess.run(words, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seconds = time.perf_counter() - begin
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        _fail(f"{' '.join(words[1:4])} ... exited {done.returncode}: {last}")
    return seconds


class Runs:
    """``runs.jsonl``: one line per finished run, keyed by (set, round, command); read back on a rerun."""

    def __init__(self, path: Path, settings: Dict) -> None:
        self.path, self.done = path, {}
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # a line cut by an interruption
                if row.get("settings") == settings:
                    self.done[(row["set"], row["round"], row["command"])] = row
        self.settings = settings

    def get(self, *key):
        return self.done.get(key)

    def add(self, row: Dict) -> None:
        row = {**row, "settings": self.settings}
        with open(self.path, "a") as handle:
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.done[(row["set"], row["round"], row["command"])] = row


def _psnr_of(kind: str, work: Path) -> float:
    path = work / kind / "results.json"
    entries = json.loads(path.read_text())
    return next(iter(entries.values()))["valid_ave_psnr"]


def _backend_of(work: Path, kind: str) -> Dict:
    entry = next(iter(json.loads((work / kind / "results.json").read_text()).values()))
    info = entry.get("backend_info", {})
    return {k: info.get(k) for k in ("backend", "requested", "setup_s", "export_cache", "auto_lr_pixels")}


def run_set(name: str, data: Path, work: Path, runs: Runs, args: argparse.Namespace, env: Dict[str, str]) -> Dict:
    rng = random.Random(f"{args.seed}-{name}")
    cold_env = {**env, "SLIMRLFN_CACHE_DIR": str(work / "cache")}
    for kind in COMMANDS:
        if runs.get(name, "first", kind) is None:
            shutil.rmtree(work / "cache", ignore_errors=True)  # each command's first run starts with empty caches
            seconds = timed_run(command_line(kind, data, work, args), cold_env)
            runs.add({"set": name, "round": "first", "command": kind, "wall_s": seconds, "load": os.getloadavg()[0]})
            print(f"  {name} first run  {kind:9s} {seconds:7.2f} s", flush=True)
    for index in range(args.rounds):
        order = list(COMMANDS)
        rng.shuffle(order)
        for kind in order:
            if runs.get(name, index, kind) is None:
                seconds = timed_run(command_line(kind, data, work, args), cold_env)
                runs.add({"set": name, "round": index, "command": kind, "wall_s": seconds, "load": os.getloadavg()[0]})
        row = {k: runs.get(name, index, k)["wall_s"] for k in COMMANDS}
        print(f"  {name} round {index + 1}/{args.rounds}: official {row['official']:.2f} s, default {row['default']:.2f} s "
              f"({row['default'] / row['official']:.3f}x), eager {row['eager']:.2f} s "
              f"({row['eager'] / row['official']:.3f}x)", flush=True)
    return summarise_set(name, data, work, runs, args)


def _spread(values: List[float]) -> Dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarise_set(name: str, data: Path, work: Path, runs: Runs, args: argparse.Namespace) -> Dict:
    walls = {k: [runs.get(name, i, k)["wall_s"] for i in range(args.rounds)] for k in COMMANDS}
    result = {"set": name, "data": str(data), "images": len(list((data / "DIV2K_LSDIR_valid_LR").glob("*.png"))),
              "wall_s": {k: _spread(v) for k, v in walls.items()},
              "first_run_s": {k: runs.get(name, "first", k)["wall_s"] for k in COMMANDS},
              "load": _spread([runs.get(name, i, k)["load"] for i in range(args.rounds) for k in COMMANDS]),
              "psnr": {k: _psnr_of(k, work) for k in COMMANDS}, "backend": _backend_of(work, "default")}
    for kind in ("default", "eager"):
        ratios = [ours / official for ours, official in zip(walls[kind], walls["official"])]
        result[f"{kind}_ratio"] = {**_spread(ratios), "target": TARGETS[kind], "met": max(ratios) <= TARGETS[kind],
                                   "median_met": statistics.median(ratios) <= TARGETS[kind]}
    result["psnr_eager_equal"] = result["psnr"]["eager"] == result["psnr"]["official"]  # the same path: bit-equal
    result["psnr_default_diff_db"] = abs(result["psnr"]["default"] - result["psnr"]["official"])
    return result


def run_help(runs: Runs, args: argparse.Namespace, env: Dict[str, str], work: Path) -> Dict:
    rng = random.Random(f"{args.seed}-help")
    for index in range(args.rounds):
        order = ["help", "import_torch"]
        rng.shuffle(order)
        for kind in order:
            if runs.get("help", index, kind) is None:
                runs.add({"set": "help", "round": index, "command": kind, "load": os.getloadavg()[0],
                          "wall_s": timed_run(command_line(kind, work, work, args), env)})
    helps = [runs.get("help", i, "help")["wall_s"] for i in range(args.rounds)]
    torches = [runs.get("help", i, "import_torch")["wall_s"] for i in range(args.rounds)]
    ratios = [h / t for h, t in zip(helps, torches)]
    return {"help_s": _spread(helps), "import_torch_s": _spread(torches),
            "ratio": {**_spread(ratios), "target": TARGETS["help"], "met": max(ratios) <= TARGETS["help"]}}


# --------------------------------------------------------------------------- report


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _verdict(ratio: Dict) -> str:
    if ratio["met"]:
        return f"met (<= {ratio['target']})"
    return f"median met, not every round (<= {ratio['target']})" if ratio["median_met"] else \
        f"NOT met (<= {ratio['target']})"


def markdown(report: Dict) -> str:
    lines = [f"# slimrlfn eval vs the official test_demo.py (model_id {report['model_id']})", "",
             f"{report['device']}, {report['threads']} threads, {report['rounds']} paired rounds per set, "
             f"whole processes, {report['minutes']:.1f} min of runs in all.", "",
             "| data set | images | official s | default s | eager s | default / official | eager / official | "
             "first run (empty caches): default, eager s | PSNR: official = eager; default off by | load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in report["sets"]:
        w, d, e = row["wall_s"], row["default_ratio"], row["eager_ratio"]
        lines.append(
            f"| {row['set']} | {row['images']} | {w['official']['median']:.2f} | {w['default']['median']:.2f} | "
            f"{w['eager']['median']:.2f} | **{d['median']:.3f}** [{d['min']:.3f}, {d['max']:.3f}] {_verdict(d)} | "
            f"**{e['median']:.3f}** [{e['min']:.3f}, {e['max']:.3f}] {_verdict(e)} | "
            f"{row['first_run_s']['default']:.2f}, {row['first_run_s']['eager']:.2f} | "
            f"{row['psnr']['official']:.4f} dB: {'equal' if row['psnr_eager_equal'] else 'NOT equal'}; "
            f"{row['psnr_default_diff_db']:.1e} dB | "
            f"{row['load']['min']:.2f}-{row['load']['max']:.2f} |")
    h = report["help"]
    lines += ["", f"`slimrlfn --help` {h['help_s']['median']:.3f} s against `python -c \"import torch\"` "
              f"{h['import_torch_s']['median']:.3f} s: **{h['ratio']['median']:.3f}x** [{h['ratio']['min']:.3f}, "
              f"{h['ratio']['max']:.3f}] ({'met' if h['ratio']['met'] else 'NOT met'}, <= {h['ratio']['target']}).",
              "", "Ranges are the smallest and largest ratio over the rounds; 'met' means every round met the target, "
              "'median met' that the median did. "
              "Default backend chosen: " + "; ".join(f"{r['set']}: {r['backend']['backend']}" for r in report["sets"])
              + "."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=SHARED / "ntire2024_esr", help="challenge repository checkout")
    parser.add_argument("--model_id", type=int, default=21, help="entry of test_demo.py's select_model (default 21)")
    parser.add_argument("--sets", nargs="+", default=["set14", "sample", "div2k"], choices=["set14", "sample", "div2k"])
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds per data set (default 5)")
    parser.add_argument("--div2k_images", type=int, default=10, help="DIV2K-sized synthetic pairs (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench" / "vs_test_demo")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.div2k_images < 1:
        _fail("--rounds and --div2k_images: expected positive numbers")
    if not (args.repo / "test_demo.py").is_file():
        _fail(f"--repo {args.repo}: no test_demo.py there; expected an NTIRE ESR repository checkout")
    args.repo, args.out = args.repo.resolve(), args.out.resolve()  # the official script runs in its own work folder
    from slimrlfn.core.files import atomic_write_json, atomic_write_text

    args.out.mkdir(parents=True, exist_ok=True)
    settings = {"model_id": args.model_id, "rounds": args.rounds, "div2k_images": args.div2k_images,
                "seed": args.seed, "repo": str(args.repo)}
    runs = Runs(args.out / "runs.jsonl", settings)
    begin = time.perf_counter()
    data = prepare(args.sets, args.out / "data", args.div2k_images)
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.setdefault("SLIMRLFN_MODEL_ZOO", str(SHARED / "model_zoo"))
    import torch

    sets = []
    for name, folder in data.items():
        print(f"{name}: {folder}", flush=True)
        sets.append(run_set(name, folder, args.out / "work" / name, runs, args, env))
    report = {"model_id": args.model_id, "rounds": args.rounds, "device": _cpu_name(), "threads": torch.get_num_threads(),
              "python": platform.python_version(), "torch": torch.__version__, "sets": sets,
              "help": run_help(runs, args, env, args.out / "work"),
              "minutes": sum(row["wall_s"] for row in runs.done.values()) / 60,
              "this_invocation_min": (time.perf_counter() - begin) / 60}
    report["all_met"] = all(s["default_ratio"]["met"] and s["eager_ratio"]["met"] for s in sets) and \
        report["help"]["ratio"]["met"]
    atomic_write_json(args.out / "report.json", report)
    text = markdown(report)
    atomic_write_text(args.out / "report.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
