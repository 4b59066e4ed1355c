# The two commands a new developer needs: `make up` and `make test`. Both set everything up first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian's Chromium for the browser tests (Playwright drives it; no browser download at run time).
CHROMIUM := /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The shopping app (mobile/) on the desktop: Toga's GTK backend builds PyGObject against these, and its
# screenshots are taken on a virtual display (Xvfb). Debian's packages; no download at run time.
GTK_APT   := libgirepository1.0-dev libcairo2-dev pkg-config gir1.2-gtk-3.0 librsvg2-common libcanberra-gtk3-module xvfb
GTK_STAMP := $(VENV)/.gtk-installed
MERCATO_GATEWAY_URL ?= http://127.0.0.1:8080

# Deployment tooling from Debian: podman and buildah build and run the images (runc: podman 4.3's crun
# fails on hybrid cgroups), mmdebstrap makes their base from the Debian mirror, Prometheus scrapes the
# platform in the metrics tests. (kubectl with kustomize renders the Kubernetes manifests.)
DEPLOY_APT := podman buildah runc mmdebstrap uidmap slirp4netns prometheus

.PHONY: setup up test lint format bench clean browser gtk mobile deploy-tools images

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv and install Mercato with its development tools

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver

browser: $(CHROMIUM)  ## install Debian's Chromium for the browser tests

$(GTK_STAMP): $(STAMP)
	@dpkg -s $(GTK_APT) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(GTK_APT); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,gtk]'
	@touch $(GTK_STAMP)

deploy-tools:  ## install podman, buildah, mmdebstrap and Prometheus (Debian's packages)
	@dpkg -s $(DEPLOY_APT) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(DEPLOY_APT); }

gtk: $(GTK_STAMP)  ## install Toga's GTK backend and Xvfb for the shopping app on the desktop

images: setup deploy-tools  ## build localhost/mercato-base:bookworm (mmdebstrap, once) and localhost/mercato (when the source changed)
	PYTHON=$(BIN)/python sh deploy/images/build.sh

mobile: setup gtk  ## run the shopping app on the desktop against the running platform (`make up` first)
	cd mobile && MERCATO_GATEWAY_URL=$(MERCATO_GATEWAY_URL) PYTHONPATH=src ../$(BIN)/python -m shop

up: setup  ## migrate, seed the demo catalog, start Envoy and every service, print the URLs
	$(BIN)/mercato up

test: setup browser gtk deploy-tools lint  ## set up and run every test (SQLite; PostgreSQL too when MERCATO_TEST_DATABASE_URL is set)
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache mobile/build mobile/dist mobile/logs mobile/.briefcase
