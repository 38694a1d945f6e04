"""Every third-party module our code imports is declared in pyproject.toml, directly: a
library that only arrives as another one's dependency can go away, or change major version,
in an upgrade of that other library.

pipeline/ may import only [project] dependencies (an optional feature's library goes in an
extra and in OPTIONAL below); tests/ and scripts/ may also use the test extra (tests/ the
dask extra too), scripts/ the example extra (the example site's figures), tests/lab/ the lab
extra."""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCAL = {"pipeline", "tests"}
# module -> the extra that declares it, for pipeline/ imports of optional features
OPTIONAL: dict[str, str] = {"distributed": "dask", "dask": "dask"}


def imported_modules(folder: Path, skip: tuple[Path, ...] = ()) -> dict[str, set[str]]:
    """Top-level names of the absolute imports in folder's .py files (inside functions too),
    less the standard library and our own packages: {module: files importing it}."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        if any(path.is_relative_to(s) for s in skip):
            continue
        for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(*extras: str) -> set[str]:
    """Normalized distribution names in [project] dependencies and the given extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    for extra in extras:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    return {_normalized(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", r).group(1))
            for r in requirements}


def undeclared(found: dict[str, set[str]], allowed: set[str]) -> list[str]:
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for module, files in sorted(found.items()):
        owners = distributions.get(module)
        where = ", ".join(sorted(files)[:3]) + (" ..." if len(files) > 3 else "")
        if not owners:
            problems.append(f"{module} (in {where}): not installed, its distribution is unknown")
        elif not {_normalized(d) for d in owners} & allowed:
            problems.append(f"{module} (in {where}): from {'/'.join(sorted(set(owners)))}, "
                            "which pyproject.toml does not declare")
    return problems


def test_the_walk_sees_imports_inside_functions_and_leaves_out_stdlib_and_our_own():
    found = imported_modules(REPO / "pipeline")
    assert "pipeline/execute/run.py" in found["papermill"]        # imported inside a function
    assert "jupyter_client" in found and "IPython" in found
    assert not {"os", "json", "pipeline", "__future__"} & set(found)


def test_every_library_pipeline_imports_is_a_declared_dependency():
    found = imported_modules(REPO / "pipeline")
    optional = {m: found.pop(m) for m in list(found) if m in OPTIONAL}
    problems = undeclared(found, declared())
    for module, files in optional.items():
        problems += undeclared({module: files}, declared(OPTIONAL[module]))
    assert not problems, "add to [project] dependencies in pyproject.toml:\n" + "\n".join(problems)


def test_every_library_the_tests_and_scripts_import_is_declared():
    lab = REPO / "tests" / "lab"         # runs in .lab/venv: see the next test
    problems = undeclared(imported_modules(REPO / "tests", skip=(lab,)), declared("test", "dask"))
    problems += undeclared(imported_modules(REPO / "scripts"), declared("test", "example"))
    assert not problems, "declare in pyproject.toml (the test extra):\n" + "\n".join(problems)


@pytest.mark.skipif(importlib.util.find_spec("jupyterlab") is None,
                    reason="tests/lab runs in the JupyterLab environment (make lab)")
def test_every_library_the_lab_tests_import_is_declared():
    problems = undeclared(imported_modules(REPO / "tests" / "lab"), declared("test", "lab"))
    assert not problems, "declare in pyproject.toml (the lab extra):\n" + "\n".join(problems)
