"""bench/checks/mutation_check.py's table stays plantable: a mutant whose snippet moved or whose tests were renamed
would be reported as an error only when someone runs the (long) check; this finds it in the suite."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _check():
    spec = importlib.util.spec_from_file_location("mutation_check", REPO / "bench" / "checks" / "mutation_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def test_every_mutant_is_found_once_and_names_tests_that_exist():
    check = _check()
    names = [m.name for m in check.MUTANTS]
    assert len(names) == len(set(names)), "two mutants share a name"
    for mutant in check.MUTANTS:
        text = (REPO / mutant.file).read_text()
        assert text.count(mutant.old) == 1, f"{mutant.name}: its snippet is in {mutant.file} {text.count(mutant.old)} times"
        assert mutant.old != mutant.new and mutant.set in check.SETS and mutant.what, mutant.name
        assert check.expand(REPO, mutant.tests), f"{mutant.name}: no test file"
        for test_file in check.expand(REPO, mutant.tests):
            assert (REPO / test_file).is_file(), f"{mutant.name}: {test_file} does not exist"


def test_the_survivors_of_issue_35_and_the_uncovered_modules_are_planted():
    check = _check()
    issue35 = [m for m in check.MUTANTS if m.set == "issue35"]
    assert len(issue35) >= 18
    reached = {m.file for m in check.MUTANTS if m.set == "reach"}
    for module in ("slimrlfn/field/noise.py", "slimrlfn/field/analysis.py", "slimrlfn/prune/measure.py",
                   "slimrlfn/prune/refit.py", "slimrlfn/arch/challenge.py", "slimrlfn/deploy/int8.py"):
        assert module in reached, module
    assert any(f.startswith("slimrlfn/quantize/") for f in reached)


def test_every_mutant_of_the_strict_sets_must_be_killed():
    check = _check()
    results = [check.Result("a", "audit", "f", "killed", 1.0), check.Result("b", "reach", "f", "killed", 1.0),
               check.Result("c", "issue35", "f", "killed", 1.0)]
    assert check.targets_met(results)
    results.append(check.Result("d", "reach", "f", "survived", 1.0))
    assert not check.targets_met(results)
