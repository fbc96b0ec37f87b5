"""Irregular mask generator: hole ratios land in the requested bucket, deterministically."""

from __future__ import annotations

import numpy as np
import pytest

from engines.inpaint.masks import BUCKETS, bucket_name, random_bucket_mask, random_mask


@pytest.mark.parametrize("bucket", BUCKETS, ids=[bucket_name(b) for b in BUCKETS])
def test_hole_ratio_in_bucket(bucket):
    rng = np.random.default_rng(1)
    for _ in range(8):
        m = random_mask(rng, 128, 160, bucket)
        assert m.dtype == np.float32 and m.shape == (128, 160)
        assert set(np.unique(m)) <= {0.0, 1.0}
        assert bucket[0] < m.mean() <= bucket[1]


def test_same_seed_same_mask_and_bad_bucket():
    a = random_mask(np.random.default_rng(7), 64, 64, BUCKETS[2])
    b = random_mask(np.random.default_rng(7), 64, 64, BUCKETS[2])
    assert np.array_equal(a, b)
    assert 0.01 < random_bucket_mask(np.random.default_rng(3), 64, 64).mean() <= 0.6
    with pytest.raises(ValueError):
        random_mask(np.random.default_rng(0), 64, 64, (0.5, 0.2))


def test_bucket_names():
    assert [bucket_name(b) for b in BUCKETS] == ["1-10%", "10-20%", "20-30%", "30-40%", "40-50%", "50-60%"]
