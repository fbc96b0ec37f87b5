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
# after the share-by-cost and detail gain (refine.py), same 6 photos: default 22.54 / 27.27 / 29.14 dB,
# colourfulness ratio 0.686 / 0.861 / 0.878, hint error 0.19 / 0.21 Delta E
# issue 20 follow-up (x3.8 without hints, the 0-hint answer's detail lent at 1-2 hints, the gain rising from
# 10 hints; nested hint sets), same 6 photos: default 22.41 / 27.33 / 30.43 dB, colourfulness 0.762 / 0.869 /
# 0.985, hint error 0.33 / 0.47 Delta E; thresholds unchanged
MIN_GAIN_0_TO_10_DB = 3.0
MIN_COLOUR_0, MIN_COLOUR_10 = 0.55, 0.8  # colourfulness ratio (issue 20 goals 0.6 / 0.85 on the full sets)
MAX_BELOW_BASELINE_DB = 0.3  # at 10 and 50 hints, default >= baseline - this


@pytest.fixture(scope="module")
def rows():
    folder = default_data_root() / "color" / "CBSD68"
    if not folder.is_dir():
        pytest.skip(f"shared data not found at {folder}")
    images = bench.load_set(folder, N_PHOTOS)
    found = bench.run_bench(images, ["default", "baseline"], "CBSD68", counts=(0, 10, 50))
    return {(r.model, r.hints): r for r in found}


@pytest.fixture(scope="module")
def psnr(rows):
    return {k: r.psnr_rgb for k, r in rows.items()}


def test_hints_raise_psnr(psnr):
    gain = psnr["default", 10] - psnr["default", 0]
    assert gain >= MIN_GAIN_0_TO_10_DB, f"0 -> 10 hints: +{gain:.2f} dB"


@pytest.mark.parametrize("hints", [10, 50])
def test_default_is_not_below_the_classical_baseline(psnr, hints):
    ours, base = psnr["default", hints], psnr["baseline", hints]
    assert ours >= base - MAX_BELOW_BASELINE_DB, f"{hints} hints: ours {ours:.2f} dB, baseline {base:.2f} dB"


def test_colourful_without_hints_and_more_with_them_keeping_hint_colours(rows):
    c0, c10, c50 = (rows["default", n].colourfulness_ratio for n in (0, 10, 50))
    assert c0 >= MIN_COLOUR_0 and c10 >= MIN_COLOUR_10, (c0, c10)
    assert c0 <= c10 <= c50 + 0.02  # more hints, no less colour (0.02: sampling noise of 6 photos)
    assert rows["default", 10].hint_error <= 6 and rows["default", 50].hint_error <= 6
