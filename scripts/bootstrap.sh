#!/usr/bin/env bash
# Install the system packages Safeground needs on a fresh Debian/Ubuntu machine: Python 3.11+
# with venv; Node.js and npm (the web map's libraries come from the npm registry); Chromium
# (the browser tests drive Debian's /usr/bin/chromium); GDAL's gdal-bin (the suite reads our
# OGC API, tiles and exports with ogrinfo/ogr2ogr); QGIS's python3-qgis (the suite loads our
# OGC API and tiles in QGIS, headless). Idempotent; uses sudo when not root.
set -euo pipefail
log() { echo "bootstrap: $*" >&2; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "need root or sudo to install: $*"; return 1; fi
}
PYTHON=${PYTHON:-python3}
need=()
command -v "$PYTHON" >/dev/null 2>&1 || need+=(python3)
if command -v "$PYTHON" >/dev/null 2>&1; then
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    log "$PYTHON is older than 3.11; use Debian 12 / Ubuntu 24.04 or set PYTHON=python3.11"; exit 1; }
  tmp=$(mktemp -d); "$PYTHON" -m venv "$tmp/v" >/dev/null 2>&1 || need+=(python3-venv); rm -rf "$tmp"
fi
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
# GDAL's command-line clients: the suite reads our OGC API, tiles and exports with them
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
# QGIS's Python API, headless (the suite loads our OGC API and tiles in QGIS 3.22)
/usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1 || need+=(python3-qgis)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi
