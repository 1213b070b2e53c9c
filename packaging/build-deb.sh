#!/usr/bin/env bash
# Build dist/jarvis-desktop_<version>_amd64.deb: a PyInstaller bundle (one folder) under /opt/jarvis-desktop/ with the
# embedded default models inside, /usr/bin/jarvis-desktop, the menu entry and the icon; see docs/install.md.
#
#   bash packaging/setup.sh --no-start     once: the venv (.venv) with the app and its models
#   bash packaging/build-deb.sh            then: the .deb (about 1.5 minutes on 2 cores, about 490 MB)
#
# It installs PyInstaller (pinned below) into .venv when missing. Not in the bundle: torch, transformers, peft, mlx
# (LoRA training and the PyTorch / MLX backends; the app runs on llama.cpp and says training is not in this build).
# Environment: DEB_COMPRESS (dpkg-deb -Z: zstd, xz, gzip or none; default zstd), DEB_LEVEL (-z, default 9).
# zstd -9 compresses the ~950 MB tree in ~15 s to ~490 MB; xz -6 takes ~7.5 min for ~450 MB. Every system the bundle
# runs on (glibc >= 2.35: Debian 12, Ubuntu 22.04 and later) has a dpkg that reads zstd.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYINSTALLER_VERSION="6.22.3"
HOOKS_CONTRIB_VERSION="2026.10"
PKG="jarvis-desktop"
VPY="$ROOT/.venv/bin/python"
BUILD="$ROOT/build/deb"
STAGE="$BUILD/root"

log() { printf '\033[1m[build-deb]\033[0m %s\n' "$*"; }
die() { echo "error: $*" >&2; exit 2; }

[ "$(uname -m)" = x86_64 ] || die "this script builds an amd64 package; this machine is $(uname -m)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (a Debian/Ubuntu system is needed)"
[ -x "$VPY" ] || die "no .venv: run bash packaging/setup.sh --no-start first"
"$VPY" -c "import jarvis_desktop.models as m; m.embedded_whisper_path(); m.embedded_chat_gguf(); m.whisper_base_sources()" \
  2>/dev/null || die "the embedded models are not all installed in .venv: run bash packaging/setup.sh --no-start first"

if ! "$VPY" -m PyInstaller --version 2>/dev/null | grep -qx "$PYINSTALLER_VERSION"; then
  log "installing PyInstaller $PYINSTALLER_VERSION into .venv"
  "$VPY" -m pip install -q "pyinstaller==$PYINSTALLER_VERSION" "pyinstaller-hooks-contrib==$HOOKS_CONTRIB_VERSION"
fi

VERSION="$("$VPY" -c 'import jarvis_desktop; print(jarvis_desktop.__version__)')"
DEB="$ROOT/dist/${PKG}_${VERSION}_amd64.deb"
t0=$SECONDS

# ---- the bundle ----------------------------------------------------------------------------------
log "PyInstaller: building the bundle (build/pyinstaller/dist/$PKG)"
"$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$ROOT/build/pyinstaller/dist" --workpath "$ROOT/build/pyinstaller/work" \
  "$ROOT/packaging/jarvis-desktop.spec"
BUNDLE="$ROOT/build/pyinstaller/dist/$PKG"
for pkg in torch transformers peft mlx; do
  [ ! -e "$BUNDLE/_internal/$pkg" ] || die "$pkg ended up in the bundle; it must stay out (see packaging/jarvis-desktop.spec)"
done
# Smoke test before packaging: the frozen CLI understands a command with the bundled models.
JARVIS_DESKTOP_HOME="$(mktemp -d)" "$BUNDLE/$PKG" parse "remind me to call mom tomorrow at 5pm" --json >/dev/null \
  || die "the bundled binary does not run: $BUNDLE/$PKG parse ..."
t_bundle=$((SECONDS - t0))

# ---- the package tree ----------------------------------------------------------------------------
log "staging the package tree (build/deb/root)"
rm -rf "$BUILD"
mkdir -p "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/icons/hicolor/scalable/apps" "$STAGE/usr/share/doc/$PKG" "$STAGE/DEBIAN"
cp -a "$BUNDLE" "$STAGE/opt/$PKG"
ln -s "/opt/$PKG/$PKG" "$STAGE/usr/bin/$PKG"
install -m 0644 packaging/jarvis-desktop.desktop "$STAGE/usr/share/applications/$PKG.desktop"
install -m 0644 resources/icons/jarvis.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/$PKG.svg"
cat > "$STAGE/usr/share/doc/$PKG/copyright" <<'EOF'
Jarvis Desktop: MIT (this project).
Embedded models: Whisper tiny.en and base (MIT), Silero VAD (MIT), SmolLM2-135M-Instruct (Apache-2.0),
hibari "heart" voice (Apache-2.0), openWakeWord "hey Jarvis" (CC BY-NC-SA 4.0: non-commercial use only).
The bundled Python libraries keep their own licences (their *.dist-info folders under /opt/jarvis-desktop/_internal).
EOF
chmod -R u+rwX,go+rX,go-w "$STAGE"

# Depends: the runtime libraries of packaging/setup.sh's APT_RUNTIME (one list), less the build tools; glibc >= 2.35
# for the wake word's TFLite runtime.
runtime="$(sed -n '/^APT_RUNTIME=(/,/)/p' packaging/setup.sh | sed 's/^APT_RUNTIME=(//; s/).*//' | tr -s ' \n' '\n')"
depends="libc6 (>= 2.35)"
for pkg in $runtime; do
  case "$pkg" in build-essential|cmake|"") ;; *) depends="$depends, $pkg" ;; esac
done
installed_kb="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat > "$STAGE/DEBIAN/control" <<EOF
Package: $PKG
Version: $VERSION
Architecture: amd64
Maintainer: Jarvis Desktop maintainers <jarvis-desktop@localhost>
Installed-Size: $installed_kb
Depends: $depends
Suggests: pulseaudio-utils | wireplumber, playerctl, libnotify-bin
Section: utils
Priority: optional
Description: offline-first desktop voice assistant
 Jarvis Desktop understands spoken or typed commands (reminders, timers, notes,
 events, apps, volume, media) and answers questions with a small language model,
 all on this computer. Whisper tiny.en and base, SmolLM2-135M-Instruct, the
 hibari voice and the "hey Jarvis" wake word are inside the package.
 .
 Not in this build: LoRA training and the PyTorch / MLX backends.
EOF
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's|  \./|  |') \
  > "$STAGE/DEBIAN/md5sums"

# ---- the .deb ------------------------------------------------------------------------------------
log "dpkg-deb: compressing ($((installed_kb / 1024)) MB installed)"
mkdir -p "$ROOT/dist"
rm -f "$DEB"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-zstd}" -z"${DEB_LEVEL:-9}" --build "$STAGE" "$DEB" >/dev/null
rm -rf "$STAGE"  # ~950 MB; the bundle stays in build/pyinstaller/dist, the package's files in the .deb
t_total=$((SECONDS - t0))
log "built $DEB ($(du -m "$DEB" | cut -f1) MB; bundle ${t_bundle} s, total ${t_total} s)"
