"""One prose page edited in a warm build service (`pipeline.build.service`), timed in the
process: what the preview server of a later issue pays per save. Prints one JSON line:
{"edits": [seconds, ...], "noops": [seconds, ...]}. Used by scripts/bench.py."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pipeline.build.service import BuildService
from pipeline.config import load_config
from pipeline.model import Outcome


def main(site: Path, page: Path, runs: int) -> None:
    original = page.read_text(encoding="utf-8")
    edits, noops = [], []
    with BuildService(load_config(site)) as service:
        service.build()
        for i in range(runs + 1):       # the first edit imports what the page needs: not timed
            page.write_text(original + f"\nEdited in the service, run {i}.\n", encoding="utf-8")
            started = time.perf_counter()
            report = service.build()
            if i:
                edits.append(time.perf_counter() - started)
            if report.count(Outcome.BUILT) != 1:
                raise SystemExit(f"expected one page built, got {report}")
        for _ in range(runs):
            started = time.perf_counter()
            service.build()
            noops.append(time.perf_counter() - started)
    page.write_text(original, encoding="utf-8")
    print(json.dumps({"edits": edits, "noops": noops}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
