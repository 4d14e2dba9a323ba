# Two commands for a fresh machine with Python 3.11:
#   make run   - create .venv, install everything, start the cockpit on this workspace
#   make test  - install the test extras, run ruff, import-linter and pytest
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# the tests also need the optional `cluster` extra (PostgreSQL driver, Ray); `make run` not
CLUSTER_STAMP := $(VENV)/.installed-cluster-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

# What a Linux desktop needs besides Python for the window (Qt's xcb platform), and what
# the real-display test drives it with. `make test` installs them as root on Debian/Ubuntu;
# elsewhere the real-display test is skipped with the reason.
DESKTOP_PACKAGES := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
	libxcb-render-util0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3
TEST_DISPLAY_PACKAGES := xvfb xdotool x11-utils desktop-file-utils weston
# the PostgreSQL server the store tests start (initdb/pg_ctl into a temporary folder);
# without it those tests are skipped with the reason
TEST_SERVER_PACKAGES := postgresql

.PHONY: run test lint install install-test clean-venv display-check test-system-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

$(CLUSTER_STAMP): $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev,cluster]'
	rm -f $(VENV)/.installed-cluster-*
	touch $(CLUSTER_STAMP)

install-test: $(CLUSTER_STAMP)

# says which system libraries or which display is missing (exit 2) before Qt would abort
display-check: install
	@$(BIN)/python -m core.display

run: install display-check
	$(BIN)/cockpit --workspace . gui

test-system-packages:
	@if dpkg -s $(TEST_DISPLAY_PACKAGES) $(DESKTOP_PACKAGES) >/dev/null 2>&1; then :; \
	elif command -v Xvfb >/dev/null && command -v xdotool >/dev/null && [ "$$(id -u)" != 0 ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $(TEST_DISPLAY_PACKAGES) and the desktop libraries for the real-display test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			$(TEST_DISPLAY_PACKAGES) $(DESKTOP_PACKAGES) >/dev/null) \
		|| echo "could not install them: the real-display test will be skipped"; \
	else echo "no Xvfb/xdotool and not root on Debian/Ubuntu: the real-display test will be skipped"; fi
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $(TEST_SERVER_PACKAGES) for the PostgreSQL store tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			$(TEST_SERVER_PACKAGES) >/dev/null) \
		|| echo "could not install them: the PostgreSQL store tests will be skipped"; \
	else echo "no PostgreSQL server binaries and not root on Debian/Ubuntu: the PostgreSQL store tests will be skipped"; fi

lint: install
	$(BIN)/ruff check core cockpit definitions tests benchmarks
	$(BIN)/lint-imports

test: install-test lint test-system-packages
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
