"""The build service: one object that builds a site again and again, warm."""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.build.engine import BuildOptions
from pipeline.build.service import BuildService
from pipeline.model import Outcome


def result(report, rel):
    return next(r for r in report.results if r.source.rel == rel)


def test_a_service_builds_again_and_again_and_keeps_no_kernel(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nFirst.\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\n```python\nprint(6 * 7)\n```\n')
    out = site.root / "output"
    with BuildService(site.config()) as service:
        assert service.build().ok
        first = (out / "b/index.html").stat().st_ino
        site.page("a.md", '---\ntitle: "A"\n---\n\nSecond.\n')
        report = service.build()
        assert result(report, "a").outcome is Outcome.BUILT
        assert result(report, "b").outcome is Outcome.UNCHANGED
        assert "Second." in (out / "a/index.html").read_text()
        assert (out / "b/index.html").stat().st_ino == first       # in place: untouched
        site.page("b.md", '---\ntitle: "B"\n---\n\n```python\nprint(6 * 8)\n```\n')
        report = service.build()
        assert result(report, "b").executed and ">48" in (out / "b/index.html").read_text()
        server = service._warm.server
        assert server is not None and server.alive()
    assert not server.alive()


def test_in_place_removes_what_a_page_no_longer_has_and_what_a_gone_page_had(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    gone = site.page("gone.md", '---\ntitle: "Gone"\n---\n\nx\n')
    out = site.root / "output"
    with BuildService(site.config()) as service:
        assert service.build().ok
        gone.unlink()
        site.page("a.md", '---\ntitle: "A"\nslug: /moved\n---\n\nA.\n')
        assert service.build().ok
    assert not (out / "gone").exists() and not (out / "a").exists()
    assert (out / "moved/index.html").is_file()
    assert "gone/" not in (out / "index.html").read_text()


def test_a_plain_build_after_a_service_build_trusts_its_output(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    with BuildService(site.config()) as service:
        service.build()
    report = site.build()
    assert result(report, "a").outcome is Outcome.UNCHANGED
    assert not any(n.startswith(".output") for n in os.listdir(site.root))


def test_a_staged_service_build_when_asked(site):
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    site.page("b.md", '---\ntitle: "B"\n---\n\nB.\n')
    with BuildService(site.config(), BuildOptions()) as service:
        service.build()
        first = (site.root / "output").stat().st_ino
        site.page("b.md", '---\ntitle: "B"\n---\n\nB again.\n')
        service.build()
    assert (site.root / "output").stat().st_ino != first        # a new folder, swapped in
    assert "B again." in (site.root / "output/b/index.html").read_text()


def test_a_service_that_builds_on_threads_keeps_its_fork_server(site):
    import threading

    site.page("b.md", '---\ntitle: "B"\n---\n\n```python\nprint(1)\n```\n')
    with BuildService(site.config()) as service:
        pids = []
        for n in range(2, 5):
            site.page("b.md", f'---\ntitle: "B"\n---\n\n```python\nprint({n})\n```\n')
            thread = threading.Thread(target=service.build)
            thread.start()
            thread.join(timeout=120)
            server = service._warm.server
            assert server is not None and server.alive()
            pids.append(server.process.pid)
        assert len(set(pids)) == 1
        assert ">4" in (site.root / "output/b/index.html").read_text()
    assert not server.alive()


def test_a_service_sees_a_theme_template_added_then_edited(site):
    """Jinja2 looks at no template while pages render: the layout asks once a build."""
    site.page("a.md", '---\ntitle: "A"\n---\n\nA.\n')
    out, theme = site.root / "output", site.root / "theme"
    base = (Path(__file__).parents[2] / "pipeline/site/theme/base.html.j2").read_text()
    with BuildService(site.config()) as service:
        assert service.build().ok
        assert "THEMED" not in (out / "a/index.html").read_text()
        theme.mkdir()
        (theme / "base.html.j2").write_text(base.replace("<body>", "<body>THEMED-1"))
        assert service.build().ok
        assert "THEMED-1" in (out / "a/index.html").read_text()
        (theme / "base.html.j2").write_text(base.replace("<body>", "<body>THEMED-22"))
        assert service.build().ok
        assert "THEMED-22" in (out / "a/index.html").read_text()
