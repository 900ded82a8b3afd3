#!/usr/bin/env bash
# Installs the Debian packages the test tiers need (OCR, Docker engine, base-image tools, and
# chromium + chromium-driver for the review page's browser tests).
# Skips what is present; without root it says what is missing and the affected tests skip.
set -euo pipefail

packages=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-rus tesseract-ocr-fra tesseract-ocr-nld docker.io debootstrap fonts-dejavu-core
          chromium chromium-driver)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        exec sudo -n "$0" "$@"
    fi
    echo "install-system-deps: not root; missing ${missing[*]} (tests that need them will skip)" >&2
    exit 0
fi
echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
