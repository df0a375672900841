# Two commands matter: `make run` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run serve test bench chromium redis clean

run: $(VENV)/.installed-app
	$(PY) wsgi.py

# The production recipe: gunicorn, gevent workers (see gunicorn.conf.py).
serve: $(VENV)/.installed-prod
	$(VENV)/bin/gunicorn -c gunicorn.conf.py

test: $(VENV)/.installed-dev node_modules/.installed chromium redis
	$(PY) -m pytest

bench: $(VENV)/.installed-dev
	$(PY) bench/bench.py

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "chatapp needs Python 3.11 or newer (make PYTHON=python3.12 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-app: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-prod: requirements.txt requirements-prod.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-prod.txt
	touch $@ $(VENV)/.installed-app

$(VENV)/.installed-dev: requirements.txt requirements-prod.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-app $(VENV)/.installed-prod

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# A Debian package ($(2)) unless its command ($(1)) is there: as root, or through sudo.
apt_install = if command -v $(1) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(2); \
	else echo "Installing $(2) (needs sudo)"; sudo apt-get update -qq && sudo apt-get install -y -qq $(2); fi

# The browser tests drive Debian's Chromium (Playwright's own download does not work offline).
chromium:
	@[ -n "$$CHROMIUM_PATH" ] || { $(call apt_install,chromium,chromium); }

# A Redis server for the test that rate limits are shared between processes through it.
redis:
	@$(call apt_install,redis-server,redis-server)

clean:
	rm -rf $(VENV) node_modules .pytest_cache
