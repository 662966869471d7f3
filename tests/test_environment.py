"""environment.yml (conda) lists what pyproject.toml installs (pyproject is the source of truth)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_conda_environment_has_every_pyproject_requirement():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra if not r.startswith("slimrlfn")}
    listed = {_name(line.strip()[2:]) for line in (REPO / "environment.yml").read_text().splitlines()
              if line.strip().startswith("- ") and not line.strip().startswith("- -e")}
    assert wanted - listed == set()


def test_the_makefile_installs_the_challenge_packages_the_hints_name():
    from slimrlfn.core.optional import NO_DEPS_PACKAGES, install_hint

    line = next(line for line in (REPO / "Makefile").read_text().splitlines() if line.startswith("CHALLENGE_PACKAGES"))
    assert sorted(line.split("?=")[1].split()) == sorted(NO_DEPS_PACKAGES.values())
    assert "--no-deps --no-build-isolation timm==1.0.31" in install_hint("timm")
    assert NO_DEPS_PACKAGES["basicsr"] in (REPO / "environment.yml").read_text()
