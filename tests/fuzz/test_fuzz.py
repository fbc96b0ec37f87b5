"""The hostile-input fuzz corpus (issue 18) through the loaders and the model importer.

Every case must end as a correct result or the project's error with a readable message; a crash,
a hang (per-case time limit) or code run by a pickle fails. The corpus is generated here from a
fixed seed (nothing binary in git). The default run is ~350 cases; the long form (``slow``) ten
times the random mutations with another seed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fuzz_corpus import SEED, make_corpus  # noqa: E402

from engines.bench.fuzz import run_corpus  # noqa: E402


def _check(report, corpus) -> dict[str, dict]:
    failures = "\n".join(f"{r['outcome']} {r['case']} ({r['what']}, expected {r['expect']}): {r['detail']}"
                         for r in report.unexpected)
    assert not report.unexpected, failures
    assert report.executed == []
    assert not any(p.exists() for p in corpus.sentinels)
    assert report.counts["crash"] == report.counts["hang"] == 0
    assert report.counts["ok"] + report.counts["clean"] == report.cases == len(corpus.cases)
    return {r["case"]: r for r in report.rows}


def test_the_fuzz_corpus_ends_in_results_or_clean_errors(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", seed=SEED)
    assert len(corpus.cases) >= 300
    kinds = {c.kind for c in corpus.cases}
    assert kinds == {"image", "checkpoint"}
    rows = _check(run_corpus(corpus, tmp_path / "scratch"), corpus)
    print(f"fuzz: {len(rows)} cases")
    # the outcomes that matter most, with the words the user sees
    assert "named pipe (FIFO)" in rows["fifo.png"]["detail"]
    assert "character device" in rows["zero.png"]["detail"]
    assert "Python objects beyond plain weights" in rows["ck-evil-system-zip.pth"]["detail"]
    assert "Python objects beyond plain weights" in rows["ck-evil-eval-p0.pth"]["detail"]
    assert "NaN or infinite" in rows["ck-nan.pth"]["detail"]
    assert "not a checkpoint: it looks like an HTML page" in rows["ck-html.pth"]["detail"]
    assert rows["ck-valid.safetensors"]["outcome"] == rows["mode-float-rgb.tif"]["outcome"] == "ok"


@pytest.mark.slow
def test_the_long_fuzz_corpus(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", seed=SEED + 1, scale=10)
    assert len(corpus.cases) >= 2000
    _check(run_corpus(corpus, tmp_path / "scratch"), corpus)


def test_bench_fuzz_writes_the_counts(tmp_path, capsys):
    import json

    from engines.cli import main as cli

    out = tmp_path / "fuzz.json"
    assert cli(["bench", "fuzz", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["cases"] >= 300 and data["crash"] == data["hang"] == data["executed"] == 0
    assert data["ok"] + data["clean"] == data["cases"] == len(data["rows"])
    assert cli(["bench", "fuzz", "--scale", "0"]) == 2
