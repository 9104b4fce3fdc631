#!/usr/bin/env bash
# Install what the build, the tests and the demo need, from Debian's packages only.
# Runs apt-get only when something is missing, so it is cheap to call every time.
set -eu
pkgs="darknet zlib1g-dev libstb-dev libopenblas-dev libdnnl-dev libcmocka-dev dataset-fashion-mnist pkg-config libplplot-dev plplot-driver-cairo libopenmpi-dev openmpi-bin clang-14 libclang-rt-14-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "deps: installing$missing" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing >&2
fi
