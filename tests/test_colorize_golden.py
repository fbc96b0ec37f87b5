"""The bundled colorize default on held-out photos: hints help, and it beats the classical baseline.

Golden cases (fixed): the first ``N_PHOTOS`` CBSD68 photos at 256², the bench's seeded random
hints (:mod:`engines.bench.colorize`). Skips without the shared data. Tolerances below are set
from the measured figures on the card (68 photos) with room for the smaller sample.
"""

from __future__ import annotations

import pytest

from engines.bench import colorize as bench
from engines.train_data import default_data_root

N_PHOTOS = 6
# measured on these 6 photos with colorize-siggraph17-w025-spread: 0 / 10 / 50 hints 22.69 / 27.35 /
# 28.98 dB, baseline 22.98 / 26.25 / 27.64 (the paper-recipe net fails both tests: +1.8 dB, ~2 dB below)
# after issue 20 (engine post-process in engines/colorize/refine.py, geodesic baseline), measured on the
# same 6 photos: default 22.69 / 27.47 / 29.22 dB, baseline 22.98 / 25.89 / 27.96; thresholds unchanged
MIN_GAIN_0_TO_10_DB = 3.0
MAX_BELOW_BASELINE_DB = 0.3  # at 10 and 50 hints, default >= baseline - this


@pytest.fixture(scope="module")
def rows():
    folder = default_data_root() / "color" / "CBSD68"
    if not folder.is_dir():
        pytest.skip(f"shared data not found at {folder}")
    images = bench.load_set(folder, N_PHOTOS)
    found = bench.run_bench(images, ["default", "baseline"], "CBSD68", counts=(0, 10, 50))
    return {(r.model, r.hints): r.psnr_rgb for r in found}


def test_hints_raise_psnr(rows):
    gain = rows["default", 10] - rows["default", 0]
    assert gain >= MIN_GAIN_0_TO_10_DB, f"0 -> 10 hints: +{gain:.2f} dB"


@pytest.mark.parametrize("hints", [10, 50])
def test_default_is_not_below_the_classical_baseline(rows, hints):
    ours, base = rows["default", hints], rows["baseline", hints]
    assert ours >= base - MAX_BELOW_BASELINE_DB, f"{hints} hints: ours {ours:.2f} dB, baseline {base:.2f} dB"
