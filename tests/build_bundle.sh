#!/usr/bin/env bash
# Build the one-folder bundle with build.spec, then prove it works: --version, --self-test (offscreen).
# Usage: tests/build_bundle.sh [PYTHON]   (default: .venv/bin/python if present, else python3)
# Installs the `build` extra (pyinstaller) into that Python. Prints build time and bundle size.
# MAILSETUP_DIST (default dist) and MAILSETUP_WORK (default build/pyinstaller) move the output;
# MAILSETUP_ONEFILE=1 builds one file instead (then only --version and --self-test are run on it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"

# The `build` extra brings PyInstaller (skipped when it is already there).
"$PY" -c "import PyInstaller" 2>/dev/null || "$PY" -m pip install -q -e '.[build]'

DIST="${MAILSETUP_DIST:-dist}"
WORK="${MAILSETUP_WORK:-build/pyinstaller}"
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$DIST" --workpath "$WORK" build.spec
end=$(date +%s)

if [ -d "$DIST/mailsetup" ]; then
  BIN="$DIST/mailsetup/mailsetup"; SIZE_OF="$DIST/mailsetup"
else
  BIN="$DIST/mailsetup"; SIZE_OF="$BIN"
fi
[ -x "$BIN" ] || BIN="$BIN.exe"
echo "== bundle: $BIN"
echo "build time: $((end - start)) s"
echo "bundle size: $(du -sm "$SIZE_OF" | cut -f1) MB (du -sm $SIZE_OF)"

echo "== frozen --version"
"$BIN" --version
echo "== frozen --self-test"
# A private temp data dir so the self-test never touches the user's real sandbox files.
tmp_home="$(mktemp -d)"
trap 'rm -rf "$tmp_home"' EXIT
XDG_DATA_HOME="$tmp_home/data" XDG_CACHE_HOME="$tmp_home/cache" XDG_CONFIG_HOME="$tmp_home/config" "$BIN" --self-test
echo "== bundle OK"
