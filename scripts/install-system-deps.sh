#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Vigil and its tests use, all from apt:
#   ffmpeg                      camera ingest (decode, HLS, sampled frames)
#   chromium                    dashboard browser tests (Debian's build plays H.264)
#   fonts-dejavu-core           the demo camera's text (and the browser tests' pages)
#   gst-rtsp-server + plugins   a real RTSP server for the ingest tests
#   util-linux (setpriv)        ffmpeg children die with Vigil, even after kill -9
#   mosquitto                   a real MQTT broker for the notification tests (MQTT, Home Assistant discovery)
#   valgrind                    instruction-count benchmarks of the engine (npm run bench engine)
#   git, build tools            the native vision bridge is built at `npm install` from the
#                               llama.cpp source bundled in node-llama-cpp
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  ffmpeg git python3 make g++ cmake util-linux valgrind mosquitto
  chromium fonts-dejavu-core
  python3-gi gir1.2-gst-rtsp-server-1.0
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-x
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
echo "system packages: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
