"""The package is laid out by stage, and its imports point down the stages (a stage may use
an earlier one, never a later one), so a reader knows from the tree what a folder may touch."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline"
BASE = {"config", "errors", "files", "markup", "model"}   # below every stage
# Each stage and what it may import besides itself and BASE.
ALLOWED = {
    "sources": set(),
    "notebook": {"sources"},
    "execute": {"sources", "notebook"},
    "render": {"sources"},
    "site": {"sources", "render"},
    "build": {"sources", "notebook", "execute", "render", "site"},
    "live": {"sources", "notebook", "execute", "render", "site", "build"},
    "schedule": {"sources", "notebook", "execute", "render", "site", "build"},
    "author": {"sources", "notebook", "execute", "render", "site", "build"},
    "cli": {"sources", "notebook", "execute", "render", "site", "build", "live", "schedule",
            "author", "report"},
}


def pipeline_imports(path: Path) -> set[str]:
    """The first part below `pipeline` of every `pipeline.*` import in a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "pipeline" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_imports_point_down_the_stages():
    wrong = []
    for stage, allowed in ALLOWED.items():
        for module in sorted((PACKAGE / stage).rglob("*.py")):
            extra = pipeline_imports(module) - allowed - BASE - {stage}
            if extra:
                wrong.append(f"{module.relative_to(PACKAGE)} imports {sorted(extra)}")
    assert not wrong, "\n".join(wrong)


def test_no_module_is_over_400_lines():
    long = [f"{p.relative_to(PACKAGE)}: {n}" for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400]
    assert not long, long
