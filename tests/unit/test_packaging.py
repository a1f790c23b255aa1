"""What a seller's `pip install review-monitor` resolves: every third-party module the package
imports (at the top of a file or inside a function) belongs to a distribution that
pyproject.toml declares, so an installed wheel never fails on an undeclared import. The wheel
test borrows the installed dependencies instead of downloading them; this is what keeps that
shortcut honest."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def declared() -> dict[str, set[str]]:
    """Normalised distribution names pyproject.toml declares: the run-time ones, and each
    extra's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    def norm(requirement: str) -> str:
        return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")

    out = {"": {norm(r) for r in project["dependencies"]}}
    for extra, reqs in project.get("optional-dependencies", {}).items():
        out[extra] = {norm(r) for r in reqs}
    return out


def imported_top_names(folder: Path) -> dict[str, set[Path]]:
    """Top-level module name -> the files of `folder` that import it (absolute imports only)."""
    found: dict[str, set[Path]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path)
    return found


def test_every_third_party_import_of_the_package_is_declared():
    extras = declared()
    runtime, optional = extras[""], set().union(*(v for k, v in extras.items() if k != "dev"))
    dists = {name: {d.lower().replace("_", "-") for d in ds}
             for name, ds in packages_distributions().items()}
    undeclared = {}
    for name, files in imported_top_names(ROOT / "monitor").items():
        if name in sys.stdlib_module_names or name in ("monitor", "__future__"):
            continue
        owners = dists.get(name)
        assert owners, f"{name} (imported by {sorted(map(str, files))[0]}) is not installed"
        # ray is the one optional extra (`[scale]`): only monitor/ray_engine.py may import it
        allowed = optional if all(f.name == "ray_engine.py" for f in files) else runtime
        if not owners & allowed:
            undeclared[name] = sorted(str(f.relative_to(ROOT)) for f in files)
    assert undeclared == {}, "declare these in pyproject.toml [project] dependencies"


@pytest.mark.parametrize("extra", ["scale"])
def test_the_optional_engine_is_declared_as_an_extra(extra):
    assert "ray" in declared()[extra]
