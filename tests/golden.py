"""Golden output of the example site: compared by tests/e2e, rewritten only by `make golden`.

    python -m tests.golden          rewrite tests/golden/example/ from a fresh build
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden" / "example"
COMPARED = (".html", ".xml")            # text compared byte for byte
LISTING = "FILES.txt"                   # every output file's path, one a line


def build_example(into: Path) -> Path:
    """Build a copy of the repo's example site under `into`; return its output folder."""
    from pipeline.build.engine import build_site
    from pipeline.config import load_config
    from tests.conftest import copy_example_site

    root = copy_example_site(into / "site")
    report = build_site(load_config(root))
    if not report.ok:
        raise SystemExit(f"the example site did not build cleanly: {report}")
    return root / "output"


def output_files(output: Path) -> list[str]:
    return sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        output = build_example(Path(tmp))
        shutil.rmtree(GOLDEN, ignore_errors=True)
        GOLDEN.mkdir(parents=True)
        files = output_files(output)
        (GOLDEN / LISTING).write_text("\n".join(files) + "\n", encoding="utf-8")
        for rel in files:
            if rel.endswith(COMPARED):
                target = GOLDEN / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(output / rel, target)
    print(f"golden files written to {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
