"""The field study on a challenge repository made here (tests.helpers.write_fake_challenge_repo) and tiny data."""
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.data.pairs import write_pairs
from slimrlfn.field.study import run_field
from tests.helpers import textured_image, write_fake_challenge_repo

ENTRY_KEYS = {"name", "score_cold", "score_warm", "rank_cold", "rank_warm", "years"}
FAST = dict(device="cpu", micro_sizes=[[16, 16]], micro_warmup=1, micro_iters=2, progress=False)


@pytest.fixture(scope="module")
def measured_field(tmp_path_factory):
    """One field run of the module: 4 entries of the fake repository (1 fails to load), 2 runs, tiny data."""
    root = tmp_path_factory.mktemp("field")
    repo = write_fake_challenge_repo(root / "fake_esr")
    data = root / "data"
    write_pairs([("a", textured_image(96, 80, 1)), ("b", textured_image(80, 96, 2))], data, "valid", progress=False)
    write_pairs([("c", textured_image(88, 88, 3))], data, "test", progress=False)
    out = root / "field.json"
    return run_field(repo, [0, 1, 5, 8], data_dirs=[data], runs=2, out=out, **FAST), out, repo, data


@pytest.fixture
def field(measured_field, tmp_path):
    """The module's field, its JSON copied for this test to change."""
    doc, out, repo, data = measured_field
    copy = tmp_path / "field.json"
    shutil.copy(out, copy)
    return copy_of(doc), copy, repo, data


def copy_of(doc):
    return json.loads(json.dumps(doc))


def _pids(entry, group):
    return sorted(r["pid"] for r in entry[group])


def test_every_entry_measured_as_the_challenge_did(field):
    doc, out, _, _ = field
    assert json.loads(out.read_text()) == json.loads(json.dumps(doc))
    by_key = {e["key"]: e for e in doc["entries"]}
    assert list(by_key) == ["00_Tiny", "01", "05_Partial", "08_OwnForward"]
    assert by_key["01"]["status"] == "error" and "missing file models/team01_Gone.py" in by_key["01"]["error"]
    assert all(ENTRY_KEYS <= set(e) for e in doc["entries"]), "every entry carries the keys, failed ones too"
    ranked = [e for e in doc["entries"] if e["status"] == "ok"]
    assert len(ranked) == 3 and all(ENTRY_KEYS <= set(e) for e in ranked)
    for name in ("rank_cold", "rank_warm"):
        assert sorted(e[name] for e in ranked) == [1, 2, 3]
        assert sorted(e["years"]["2026"][name] for e in ranked) == [1, 2, 3]
    assert doc["baseline"] == "00_Tiny" and by_key["00_Tiny"]["score_cold"] == pytest.approx(math.exp(2))
    assert by_key["00_Tiny"]["years"]["2026"]["score_warm"] == pytest.approx(7.389, abs=5e-4)
    assert -1 <= doc["ranking"]["tau"] <= 1 and -1 <= doc["ranking"]["years"]["2026"]["tau"] <= 1
    for entry in ranked:
        cold_pids, warm_pids = _pids(entry, "cold"), {r["pid"] for r in entry["warm"]}
        assert len(set(cold_pids)) == 2 and len(warm_pids) == 1 and not warm_pids & set(cold_pids)
        assert [r["kind"] for r in entry["warm"]] == ["run", "run", "micro"]
        for record in entry["cold"] + entry["warm"][:2]:
            assert list(record["parts"]) == ["valid", "test"] and record["threads"] >= 1
            assert record["parts"]["valid"]["names"] == ["a", "b"] and len(record["parts"]["test"]["ms"]) == 1
            assert record["load_avg_1min"] is not None and record["device_info"]["device_type"] == "cpu"
        assert entry["measures"]["psnr"].keys() == {"valid", "test"}
        assert entry["runtime_warm_runs"] == [entry["warm"][1]["runtime_ms"]]
        assert entry["micro_warmup"] == 1 and list(entry["micro_ms"]) == ["16x16"]
    assert by_key["08_OwnForward"]["measures"]["psnr"]["valid"] < 10, "the repository's own forward (+1000) is used"


def test_a_rerun_keeps_every_finished_run_and_more_runs_add_runs(field):
    doc, out, repo, data = field
    again = run_field(repo, [0, 1, 5, 8], data_dirs=[data], runs=2, out=out, **FAST)
    for old, new in zip(doc["entries"], again["entries"]):
        assert (_pids(old, "cold"), _pids(old, "warm")) == (_pids(new, "cold"), _pids(new, "warm"))
    more = run_field(repo, [0, 5], data_dirs=[data], runs=3, out=out, **FAST)
    for entry in more["entries"]:
        old = next(e for e in doc["entries"] if e["key"] == entry["key"])
        # runs 1 and 2 kept with their processes, run 3 added (by run number: process ids wrap around at 32768)
        by_run = {r["run"]: r["pid"] for r in entry["cold"]}
        assert {r["run"]: r["pid"] for r in old["cold"]}.items() <= by_run.items() and sorted(by_run) == [1, 2, 3]
        assert len({r["pid"] for r in entry["warm"]}) == 1 and len(entry["warm"]) == 4, "the warm block again, whole"


def test_other_settings_are_refused_unless_asked(field):
    _, out, repo, data = field
    with pytest.raises(UserError, match=f"--out {out}: written with other settings .*micro"):
        run_field(repo, [0], data_dirs=[data], runs=1, out=out, **{**FAST, "micro_iters": 3})
    fresh = run_field(repo, [0], data_dirs=[data], runs=1, out=out, restart_on_mismatch=True,
                      **{**FAST, "micro_iters": 3})
    assert fresh["identity"]["micro"]["iters"] == 3 and len(fresh["entries"]) == 1
    out.write_text("{}")
    with pytest.raises(UserError, match="not a field results file"):
        run_field(repo, [0], data_dirs=[data], runs=1, out=out, **FAST)
    with pytest.raises(UserError, match="--runs 0"):
        run_field(repo, [0], data_dirs=[data], runs=0, out=out, **FAST)
    # --micro_iters 0 does what the help says: no micro trace, and a negative count is refused
    none = run_field(repo, [0], data_dirs=[data], runs=1, out=out.with_name("no_micro.json"),
                     **{**FAST, "micro_iters": 0})
    assert none["identity"]["micro"] is None and none["settings"]["micro"] is None
    assert not [r for e in none["entries"] for r in e["warm"] if r.get("kind") == "micro"]
    with pytest.raises(UserError, match="--micro_iters -1: expected 0"):
        run_field(repo, [0], data_dirs=[data], runs=1, out=out, **{**FAST, "micro_iters": -1})


def test_killed_between_entries_the_rerun_keeps_the_finished_ones(fake_repo, tiny_pairs, tmp_path):
    out = tmp_path / "killed.json"
    argv = [sys.executable, "-m", "slimrlfn.field", "--challenge_repo", str(fake_repo), "--model_ids", "0", "5",
            "--data_dir", str(tiny_pairs), "--runs", "2", "--device", "cpu", "--micro_sizes", "16x16",
            "--micro_iters", "2", "--out", str(out), "--figures_dir", str(tmp_path / "fig")]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    first = None
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        try:
            doc = json.loads(out.read_text())
        except (OSError, ValueError):
            doc = None
        if doc and doc["entries"][0]["status"] == "ok":
            os.killpg(proc.pid, signal.SIGKILL)
            first = doc["entries"][0]
            break
        time.sleep(0.02)
    proc.wait()
    assert first is not None, "the first entry never finished"
    killed = json.loads(out.read_text())
    assert killed["entries"][1]["status"] != "ok", "killed before the second entry finished"
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = json.loads(out.read_text())
    assert [e["status"] for e in done["entries"]] == ["ok", "ok"]
    assert done["entries"][0]["cold"] == first["cold"] and done["entries"][0]["warm"] == first["warm"]
    assert sorted(e["rank_cold"] for e in done["entries"]) == [1, 2]
    assert (tmp_path / "fig" / "06_field_bump.png").is_file() and (tmp_path / "field.md").is_file()
