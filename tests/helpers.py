"""Small data the tests make themselves."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import torch

__all__ = ["LOADING_2024", "assert_figure_files", "outlives", "process_alive", "fake_timing_study", "textured_image", "tree_fingerprint", "write_fake_challenge_repo", "write_hostile_repo",
           "write_loading_repo", "write_user_model"]

#: The entries of ../shared/ntire2024_esr that load on a CPU, with the data_range select_model gives them.
LOADING_2024 = {0: 255.0, 1: 1.0, 3: 1.0, 4: 1.0, 10: 1.0, 13: 255.0, 15: 1.0, 16: 1.0, 21: 255.0, 22: 1.0,
                23: 1.0, 24: 1.0, 26: 1.0, 38: 1.0, 39: 1.0}


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, exited but not yet reaped, counts as gone); reads /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def outlives(pid: int, seconds: float = 5.0) -> bool:
    """Whether process ``pid`` is still running ``seconds`` after now (killed then, so that no test leaves it)."""
    import os
    import signal
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process_alive(pid):
        time.sleep(0.05)
    alive = process_alive(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)
    return alive


def tiny_slimrlfn(seed: int = 0):
    """A fresh tiny SlimRLFN (8 features, 1 block) in eval mode, weights drawn from ``seed``."""
    from slimrlfn.arch.config import build_model

    torch.manual_seed(seed)
    return build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}).eval()


def tree_fingerprint(folder: Path) -> dict:
    """Every file, folder and link under ``folder`` (relative path -> kind, size, mtime and sha256 of a file): two
    fingerprints are equal only when nothing was added, removed or written there, ``__pycache__`` included."""
    import hashlib

    prints = {}
    for path in sorted(Path(folder).rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            prints[name] = ("link", str(path.readlink()))
        elif path.is_dir():
            prints[name] = ("dir",)
        else:
            stat = path.stat()
            prints[name] = ("file", stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return prints


def textured_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth-plus-noise RGB uint8 test image (H, W, 3)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = 128 + 60 * np.sin(xx / 7.0)[..., None] * np.cos(yy / 5.0)[..., None] * np.array([1.0, 0.6, -0.8])
    return np.clip(base + rng.normal(0, 12, (height, width, 3)), 0, 255).astype(np.uint8)


def assert_figure_files(paths, out_dir: Path, stem: str) -> None:
    """PNG and PDF with the same stem exist, the PNG is not blank, the PDF is a PDF; no temp files left."""
    import matplotlib.image as mpimg  # after matplotlib.use in the test that needs it

    assert [p.name for p in paths] == [f"{stem}.png", f"{stem}.pdf"]
    png, pdf = paths
    pixels = mpimg.imread(png)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    assert float(pixels[..., :3].std()) > 0.01
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 1000
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".tmp")]


def fake_timing_study(scenario: str, values: dict) -> dict:
    """A timing-study document (as slimrlfn.timing.study.run_study writes) with the given per-run means [ms]."""
    records = []
    for label, runs in values.items():
        for run, mean in enumerate(runs, 1):
            samples = [{"name": "x", "shape": [20, 20], "warmup": False, "ms": 2 * mean, "wall_ms": 2 * mean},
                       {"name": "y", "shape": [20, 20], "warmup": False, "ms": 0.0, "wall_ms": 0.0}]
            records.append({"model": label.lower(), "label": label, "run": run, "pid": 1 if scenario == "consecutive" else run,
                            "status": "ok", "error": None, "samples": samples, "device_info": {"device_name": "Test CPU",
                            "device_type": "cpu", "threads": 2, "torch": "x"},
                            "groups": {"images": {"n": 2, "mean_ms": mean, "median_ms": mean, "first_ms": 2 * mean}}})
    return {"scenario": scenario, "protocol": "ntire", "runs": len(next(iter(values.values()))),
            "models": [{"model": k.lower(), "label": k} for k in values], "records": records}


_FAKE_MODEL = textwrap.dedent('''
    import torch
    import torch.nn as nn


    class Tiny(nn.Module):
        """x4: conv + pixel shuffle."""

        def __init__(self, channels=4):
            super().__init__()
            self.body = nn.Conv2d(3, 48, 3, padding=1)
            self.shuffle = nn.PixelShuffle(4)
            self.fused = False

        def fuse_on_cuda(self):  # as some entries do in their constructor
            self.body.cuda()
            self.fused = True

        def forward(self, x):
            return self.shuffle(self.body(x))
''')

_FAKE_TEST_DEMO = textwrap.dedent('''
    import os
    import torch


    def select_model(args, device):
        model_id = args.model_id
        if model_id == 0:
            from models.team00_Tiny import Tiny
            name, data_range = f"{model_id:02}_Tiny", 255.0
            model = Tiny()
            model.load_state_dict(torch.load(os.path.join("model_zoo", "team00_tiny.pth")), strict=True)
        elif model_id == 1:
            from models.team01_Gone import Gone
            name, data_range = f"{model_id:02}_Gone", 1.0
            model = Gone()
        elif model_id == 2:
            from models.team00_Tiny import Tiny
            name, data_range = f"{model_id:02}_NoWeights", 1.0
            model = Tiny()
            model.load_state_dict(torch.load(os.path.join("model_zoo", "team02_missing.pth")), strict=True)
        elif model_id == 3:
            import some_package_nobody_has
            name, data_range = f"{model_id:02}_NeedsPackage", 1.0
        elif model_id == 4:
            from models.team00_Tiny import Tiny
            name, data_range = f"{model_id:02}_Pickled", 1.0
            model = Tiny()
            model.load_state_dict(torch.load(os.path.join("model_zoo", "team00_tiny.pth"), weights_only=False))
        elif model_id == 5:
            from models.team00_Tiny import Tiny
            name, data_range = f"{model_id:02}_Partial", 1.0
            model = Tiny()
            state = torch.load(os.path.join("model_zoo", "team00_tiny.pth"))
            state.pop("body.bias")
            state["old.weight"] = torch.zeros(1)
            model.load_state_dict(state, strict=False)
            print("loaded with strict=False")
        elif model_id == 6:
            from models.team00_Tiny import Tiny
            import torchvision.ops  # used by no forward pass
            name, data_range = f"{model_id:02}_CudaFuse", 1.0
            model = Tiny()
            model.load_state_dict(torch.load(os.path.join("model_zoo", "team00_tiny.pth")), strict=True)
            model.fuse_on_cuda()
        elif model_id == 7:
            import mamba_ssm
            name, data_range = f"{model_id:02}_Mamba", 1.0
        elif model_id == 8:
            from models.team00_Tiny import Tiny
            name, data_range = f"{model_id:02}_OwnForward", 255.0
            model = Tiny()
        else:
            raise NotImplementedError(f"Model {model_id} is not implemented.")
        model.eval()
        tile = None
        for k, v in model.named_parameters():
            v.requires_grad = False
        model = model.to(device)
        return model, name, data_range, tile


    def forward(img_lq, model, tile=None):
        return model(img_lq)


    def forward_team08(img_lq, model, tile=None):
        """Pads to a multiple of 8, forwards, crops (as the 2024 repository's forward_team34 does for 16)."""
        h, w = img_lq.shape[-2:]
        padded = torch.nn.functional.pad(img_lq, (0, (-w) % 8, 0, (-h) % 8), "reflect")
        return model(padded)[..., : 4 * h, : 4 * w] + 1000.0


    def run(model, model_name, data_range, tile, logger, device, args, mode="test"):
        img_lr = torch.zeros(1, 3, 8, 8)
        if args.model_id == 8:
            img_sr = forward_team08(img_lr, model, tile)
        else:
            img_sr = forward(img_lr, model, tile)
        return img_sr
''')


def write_fake_challenge_repo(folder: Path) -> Path:
    """A challenge repository in the NTIRE ESR layout at ``folder`` (test_demo.py, models/, model_zoo/).

    Entries: 0 loads (data_range 255); 1 has no model file; 2 has no checkpoint; 3 needs a package nobody
    has; 4 loads with weights_only=False; 5 loads strict=False (a missing and an unexpected key); 6 calls
    ``.cuda()`` and imports torchvision.ops; 7 needs mamba_ssm (CUDA only); 8 is forwarded by ``run`` through
    its own ``forward_team08`` (pad to 8, crop, plus 1000 to be seen).
    """
    (folder / "models").mkdir(parents=True)
    (folder / "model_zoo").mkdir()
    (folder / "test_demo.py").write_text(_FAKE_TEST_DEMO)
    (folder / "models" / "team00_Tiny.py").write_text(_FAKE_MODEL)
    torch.manual_seed(0)
    body = torch.nn.Conv2d(3, 48, 3, padding=1)
    torch.save({"body.weight": body.weight.detach() * 4, "body.bias": body.bias.detach() + 100},
               folder / "model_zoo" / "team00_tiny.pth")
    return folder


_LOADING_MODEL = textwrap.dedent('''
    import torch
    import torch.nn as nn


    class Tiny(nn.Module):
        """x4: conv + pixel shuffle, [0, 1]."""

        def __init__(self, warm_up=0):
            super().__init__()
            self.body = nn.Conv2d(3, 48, 3, padding=1)
            self.shuffle = nn.PixelShuffle(4)
            for _ in range(warm_up):  # as 2024's SPAN and 2026's SPAN, PDS, AMCANet do in their constructor
                with torch.no_grad():
                    self.cuda()(torch.randn(1, 3, 64, 64).cuda())

        def forward(self, x):
            return self.shuffle(self.body(x))


    class NoisyNaN(Tiny):
        """Finite on photographs, NaN on uniform noise (its high frequencies push a log below zero)."""

        def forward(self, x):
            high = (x - torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)).pow(2).mean()
            return super().forward(x) + 0.0 * torch.log(0.03 - high)
''')

_LOADING_TEST_DEMO = textwrap.dedent('''
    import torch


    def select_model(args, device):
        model_id = args.model_id
        if model_id == -1:
            from models.team00_Tiny import Tiny
            name, data_range = "-1_Baseline", 1.0
            model = Tiny()
        elif model_id == 0:
            from models.team00_Tiny import Tiny
            name, data_range = f"{model_id:02}_Plain", 1.0
            model = Tiny()
        elif args.model_id == 1:
            from models.team00_Tiny import Tiny
            name, data_range = f"{model_id:02}_WarmConstructor", 1.0
            model = Tiny(warm_up=1)
        elif 2 == model_id:
            from models.team00_Tiny import Tiny
            name, data_range = f"{model_id:02}_WarmSelect", 1.0
            model = Tiny()
            torch.backends.cudnn.benchmark = True
            torch.set_flush_denormal(True)
            with torch.no_grad():
                for _ in range(3):  # as 2026's DISP runs 20 in select_model
                    model(torch.randn(1, 3, 32, 32))
        elif model_id == 3:
            from models.team00_Tiny import NoisyNaN
            name, data_range = f"{model_id:02}_NaNOnNoise", 1.0
            model = NoisyNaN()
        elif model_id == 4:
            pass
        elif model_id in [5, 6] or model_id == 7:
            from models.team00_Tiny import Tiny
            name, data_range = f"{model_id:02}_Listed", 1.0
            model = Tiny()
        else:
            raise NotImplementedError(f"Model {model_id} is not implemented.")
        model.eval()
        model = model.to(device)
        return model, name, data_range, None


    def run(model, model_name, data_range, tile, logger, device, args, mode="test"):
        return model(torch.zeros(1, 3, 8, 8))
''')


_HOSTILE_TEST_DEMO = textwrap.dedent('''
    import argparse
    import sys

    import torch


    def select_model(args, device):
        model_id = args.model_id
        from models.team00_Tiny import Tiny
        model, name, data_range, tile = Tiny(), f"{model_id:02}_Hostile", 1.0, None
        if model_id == 0:
            sys.exit(3)
        elif model_id == 1:
            raise KeyboardInterrupt
        elif model_id == 2:
            parser = argparse.ArgumentParser()
            parser.add_argument("--only_mine", required=True)
            parser.parse_args()  # meets the command line of the process that loads it
        elif model_id == 3:
            name = "../../escaped"
        elif model_id == 4:
            data_range = "abc"
        elif model_id == 5:
            tile = -3
        elif model_id == 6:
            model = "not a model"
        elif model_id == 7:
            name = "         07_Padded"
        return model, name, data_range, tile
''')


def write_hostile_repo(folder: Path) -> Path:
    """A challenge repository whose select_model misbehaves: 0 calls sys.exit(3), 1 raises KeyboardInterrupt, 2 calls
    argparse's parse_args(), 3 names itself ``../../escaped``, 4 returns data_range ``"abc"``, 5 a tile of -3, 6 a text
    as its model, 7 a name padded with spaces (as 2026's 11 is)."""
    (folder / "models").mkdir(parents=True)
    (folder / "model_zoo").mkdir()
    (folder / "test_demo.py").write_text(_HOSTILE_TEST_DEMO)
    (folder / "models" / "team00_Tiny.py").write_text(_LOADING_MODEL)
    return folder


def write_loading_repo(folder: Path) -> Path:
    """A challenge repository whose entries show what loading may do: -1 (a negative id), 0 (plain), 1 (one
    forward in its constructor), 2 (three forwards in select_model, and cudnn.benchmark and flush_denormal set),
    3 (NaN on uniform noise, finite on photographs), 4 (an empty branch), 5, 6, 7 (``in [5, 6] or == 7``)."""
    (folder / "models").mkdir(parents=True)
    (folder / "model_zoo").mkdir()
    (folder / "test_demo.py").write_text(_LOADING_TEST_DEMO)
    (folder / "models" / "team00_Tiny.py").write_text(_LOADING_MODEL)
    return folder


_USER_MODEL = textwrap.dedent('''
    import torch
    import torch.nn as nn


    class TinySR(nn.Module):
        """x4 by a conv and a pixel shuffle; values in [0, 1]."""

        def __init__(self, channels: int = 8, scale: int = 4):
            super().__init__()
            self.head = nn.Conv2d(3, channels, 3, padding=1)
            self.tail = nn.Conv2d(channels, 3 * scale * scale, 3, padding=1)
            self.shuffle = nn.PixelShuffle(scale)

        def forward(self, x):
            return self.shuffle(self.tail(torch.relu(self.head(x))))


    class Half(nn.Module):
        def forward(self, x):
            return x[..., ::2, ::2]


    class NotFinite(TinySR):
        def forward(self, x):
            return super().forward(x) / 0.0


    class NeedsCuda(TinySR):
        def forward(self, x):
            torch.cuda.current_device()
            return super().forward(x)
''')


def write_user_model(path: Path) -> Path:
    """A user's model file at ``path``: ``TinySR(channels=8)`` (x4, [0, 1]) and three broken classes
    (``Half``: wrong output size, ``NotFinite``, ``NeedsCuda``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_USER_MODEL)
    return path


def fake_field_doc(runs: int = 3) -> dict:
    """A field document as :func:`slimrlfn.field.study.run_field` writes it, with made-up runs, analysed.

    Members: ``00_Base`` (the baseline), ``10_Fast`` and its variant ``10_Fastlite`` (slower cold, faster warm:
    the seed's claim), ``11_Steady``, and ``12_Broken`` (failed to load). Two parts, valid and test.
    """
    from slimrlfn.field.analysis import analyse

    parts = [{"label": "valid", "data_dir": "/data", "split": "valid", "ntire_layout": True, "names": ["a", "b"]},
             {"label": "test", "data_dir": "/data", "split": "test", "ntire_layout": True, "names": ["c"]}]
    # (cold ms per run, warm ms per run, params M, FLOPs G, PSNR)
    facts = {"00_Base": ([30.0, 31.0, 29.0], [20.0, 15.0, 15.2], 0.3, 19.0, 26.95),
             "10_Fast": ([20.0, 21.0, 20.5], [14.0, 10.0, 10.1], 0.2, 12.0, 26.93),
             "10_Fastlite": ([23.0, 22.0, 22.5], [12.0, 9.0, 9.1], 0.19, 11.0, 26.91),
             "11_Steady": ([22.0, 22.2, 21.9], [21.0, 20.0, 20.1], 0.1, 8.0, 26.90)}

    def record(kind, run, ms, pid, process_run):
        times = {p["label"]: {"names": p["names"], "ms": [ms] * len(p["names"]), "wall_ms": [ms] * len(p["names"]),
                              "mean_ms": ms} for p in parts}
        return {"model": "m", "pid": pid, "kind": kind, "run": run, "process_run": process_run, "status": "ok",
                "error": None, "parts": times, "runtime_ms": ms, "threads": 2, "load_avg_1min": 0.1}

    entries = []
    for index, (key, (cold, warm, params, flops, psnr)) in enumerate(facts.items()):
        model_id = int(key[:2])
        micro = {"model": "m", "pid": 900 + index, "kind": "micro", "run": None, "status": "ok", "warmup": 3,
                 "groups": {"256x256": {"median_ms": warm[-1] * 3}}}
        entries.append({
            "id": key, "hint": f"entry {model_id}", "ref": {"kind": "challenge", "challenge_repo": "/repo", "model_id": model_id}, "model_id": model_id,
            "use_prune": False, "key": key, "name": key, "status": "ok", "error": None,
            "measures": {"num_parameters": params, "flops": flops, "flops_undercount": key == "11_Steady",
                         "activations": 1.0, "num_conv": 10, "psnr": {"valid": psnr, "test": psnr + 0.1},
                         "psnr_y": {"valid": psnr + 1.5, "test": psnr + 1.6}},
            "cold": [record("run", r + 1, ms, 100 * index + r, 1) for r, ms in enumerate(cold[:runs])],
            "warm": [record("run", r + 1, ms, 900 + index, r + 1) for r, ms in enumerate(warm[:runs])] + [micro]})
    entries.append({"id": "12", "hint": "entry 12", "ref": {"kind": "challenge", "challenge_repo": "/repo", "model_id": 12}, "model_id": 12, "use_prune": False,
                    "key": "12_Broken", "status": "error", "error": "entry 12: missing file models/team12_X.py in /repo",
                    "measures": None, "cold": [], "warm": []})
    doc = {"kind": "slimrlfn-field", "version": 1, "runs": runs, "parts": parts, "official_splits": False,
           "challenge_repo": "/repo", "baseline_given": None, "pairs_given": None, "entries": entries,
           "device_info": {"device": "cpu", "device_type": "cpu", "device_name": "Test CPU", "threads": 2,
                           "torch": "2.13.0"}}
    return analyse(doc)
