# Two commands on a fresh machine: `make lab` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MODE   ?= quick
NB     ?=
LAB_ARGS ?=
# Jupyter refuses to start as root (containers, some lab machines) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# The oldest tested set (requirements-oldest.txt: Colab's runtime of July 2025), in its own venv.
OLD_VENV  ?= .venv-oldest
OLD_PY    := $(OLD_VENV)/bin/python
OLD_STAMP := $(OLD_VENV)/.installed

.PHONY: lab test test-oldest test-full unit run setup weights clean-venv slides site

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(ROOT_FLAG) $(LAB_ARGS)

# What the static slides and the site load in the browser (reveal.js, MathJax, require.js,
# jQuery): the npm packages pinned in site/package.json, installed here, never a CDN.
VENDOR       := build/vendor
VENDOR_STAMP := $(VENDOR)/.installed
$(VENDOR_STAMP): site/package.json
	mkdir -p $(VENDOR)
	cp site/package.json $(VENDOR)/package.json
	cd $(VENDOR) && npm install --no-audit --no-fund --ignore-scripts --no-package-lock --loglevel=error
	touch $(VENDOR_STAMP)

# Unit tests, notebook lint, the site and slides in a browser, then nbval over every notebook.
test: $(STAMP) $(VENDOR_STAMP)
	COURSE_MODE=test $(PY) -m pytest

# One reveal.js deck per notebook from the stored outputs: build/slides/NN_name.slides.html.
slides: $(STAMP) $(VENDOR_STAMP)
	$(PY) site/build.py slides

# The course website from the stored outputs (nothing executes): build/site/index.html.
site: slides
	$(PY) site/build.py site

$(OLD_PY):
	$(PYTHON) -m venv $(OLD_VENV)

$(OLD_STAMP): requirements-oldest.txt pyproject.toml | $(OLD_PY)
	$(OLD_PY) -m pip install --quiet --upgrade pip
	$(OLD_PY) -m pip install --quiet -r requirements-oldest.txt
	$(OLD_PY) -m pip install --quiet --no-deps -e .
	touch $(OLD_STAMP)

# The other end of the supported range: the unit tests and the lint, then every notebook in test
# mode through the runner (mixed_float16, as on a Colab GPU, but for the five that TensorFlow 2.19's
# slow CPU float16 kernels price out: OLDEST_FLOAT32 in tests/test_paths.py) with the path
# matrix's sanity checks.
# nbval's output comparison runs with the newest set only (make test).
test-oldest: $(OLD_STAMP)
	COURSE_MODE=test $(OLD_PY) -m pytest tests --ignore=tests/test_paths.py -p no:nbval -o addopts="-p no:cacheprovider -ra"
	COURSE_MODE=test COURSE_PATHS=oldest $(OLD_PY) -m pytest tests/test_paths.py -p no:nbval -o addopts="-p no:cacheprovider -ra"

# The full-mode smoke (README, "Full mode: what it costs"): every notebook, or those in NB, in full
# mode under mixed_float16 with full-size data, models and evaluations and only the training cut
# short. One to two hours on two CPU cores, so CI does not run it; run it before changing a
# full-mode size, e.g. make test-full NB="05 09".
test-full: $(STAMP)
	COURSE_PATHS=full COURSE_PATHS_NB="$(NB)" $(PY) -m pytest tests/test_paths.py -p no:nbval -o addopts="-p no:cacheprovider -ra"

# Only the unit tests and the lint (neither nbval nor the path matrix runs a notebook).
unit: $(STAMP)
	COURSE_MODE=test $(PY) -m pytest tests --ignore=tests/test_paths.py

# Headless run with a timing/memory/metrics table, e.g. make run MODE=quick NB="02 03"
run: $(STAMP)
	$(PY) -m course_utils run --mode $(MODE) $(NB) $(RUN_ARGS)

# Retrain the course weights (data/weights/): the judge that scores the generative models first,
# then notebook 07's on the training photos (about an
# hour on two CPU cores; resumable) and notebook 06's GANs on the offline digits (about 20
# minutes). The 07 weights were made by these time-bounded commands, so another machine reaches
# a different step count; each manifest records its steps and exact command, and
# `pretrain NAME --steps N` retrains by step count (data/weights/README.md). The judge, GAN and
# diffusion (notebook 09, about 65 and 51 minutes) commands are the ones their
# manifests record.
weights: $(STAMP)
	$(PY) -m course_utils.pretrain judge --steps 2500 --threads 2 --fresh
	$(PY) -m course_utils.pretrain denoiser --minutes 50 --threads 2
	$(PY) -m course_utils.pretrain espcn --minutes 12 --threads 1
	$(PY) -m course_utils.pretrain dcgan --steps 7000 --threads 2 --fresh
	$(PY) -m course_utils.pretrain cgan --steps 5000 --threads 2 --fresh
	$(PY) -m course_utils.pretrain diffusion --steps 18000 --threads 2 --fresh
	$(PY) -m course_utils.pretrain diffusion-cond --steps 14000 --threads 2 --fresh

clean-venv:
	rm -rf $(VENV) $(OLD_VENV)
