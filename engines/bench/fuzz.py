"""``ganstudio bench fuzz --json OUT``: the hostile-input corpus through the loaders and the model
importer, with the counts for the record (cases, clean, ok, crash, hang).

The corpus is generated from a fixed seed by ``tests/fuzz/fuzz_corpus.py`` of the source checkout
(nothing binary is stored). Cases run in a child process (:mod:`engines.bench.fuzz_worker`), one
at a time, each with a time limit: a case that does not answer in time is a *hang* (the child is
killed and a fresh one takes the next case), a child that dies is a *crash*, and so is any case
after which one of the corpus's sentinel files exists (a pickle ran code). The child's address
space is capped so a runaway read fails there instead of exhausting the machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

CASE_TIMEOUT = 20.0  # s; the slowest honest case takes well under 1 s on a busy 2-core machine
START_TIMEOUT = 120.0  # s; importing torch in a fresh child on a loaded machine
CHILD_MEMORY = 6 << 30  # bytes of address space for the child (torch alone maps ~1-2 GB)
OUTCOMES = ("ok", "clean", "crash", "hang")


@dataclass
class FuzzReport:
    cases: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    executed: list[str] = field(default_factory=list)  # cases after which a sentinel existed
    unexpected: list[dict[str, str]] = field(default_factory=list)  # outcome != what the case expects
    rows: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {"cases": self.cases, **self.counts, "executed": len(self.executed),
                "unexpected": len(self.unexpected), "seconds": round(self.seconds, 1)}


def corpus_module(root: Path | None = None):
    """``tests/fuzz/fuzz_corpus.py`` of the source checkout, or None when it is not there (an
    installed copy without the tests)."""
    root = root or Path(__file__).resolve().parents[2]
    path = root / "tests" / "fuzz" / "fuzz_corpus.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("ganstudio_fuzz_corpus", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def _limit_memory() -> None:  # runs in the child before exec
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    except (ImportError, ValueError, OSError):
        pass


class _Child:
    """One worker process; :meth:`ask` sends a case and waits at most ``timeout`` seconds."""

    def __init__(self, data_dir: Path) -> None:
        env = {**os.environ, "GANSTUDIO_DATA": str(data_dir), "OMP_NUM_THREADS": "1"}
        root = Path(__file__).resolve().parents[2]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engines.bench.fuzz_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=root,
            preexec_fn=_limit_memory if os.name == "posix" else None)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.proc.stdout, selectors.EVENT_READ)
        self.buffer = b""
        if self._line(START_TIMEOUT) is None:
            self.close()
            raise RuntimeError("the fuzz worker did not start")

    def _line(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sel.select(left):
                return None
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def ask(self, request: dict, timeout: float) -> dict | None:
        """The answer, None on a time-out; EOFError when the child died."""
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise EOFError from None
        return self._line(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.sel.close()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


def run_corpus(corpus, scratch: Path, timeout: float = CASE_TIMEOUT,
               on_case: Callable[[dict], None] | None = None) -> FuzzReport:
    """Run every case of ``corpus`` (a ``fuzz_corpus.Corpus``); ``scratch`` holds the child's
    store and the saved copies."""
    report = FuzzReport(cases=len(corpus.cases))
    started = time.monotonic()
    child: _Child | None = None
    out_dir = scratch / "saved"
    out_dir.mkdir(parents=True, exist_ok=True)
    formats = (".png", ".jpg", ".tif", ".webp")
    try:
        for i, case in enumerate(corpus.cases):
            if child is None:
                child = _Child(scratch / "data")
            request = {"path": os.fspath(corpus.folder / case.name), "kind": case.kind,
                       "out": os.fspath(out_dir / f"case{i}{formats[i % len(formats)]}")}
            try:
                answer = child.ask(request, timeout)
            except EOFError:
                code = child.proc.wait()
                answer = {"outcome": "crash", "detail": f"the process died (exit {code})"}
                child.close()
                child = None
            if answer is None:
                answer = {"outcome": "hang", "detail": f"no answer within {timeout:g} s"}
                child.close()
                child = None
            ran = [p.name for p in corpus.sentinels if p.exists()]
            if ran:
                report.executed.append(case.name)
                answer = {"outcome": "crash", "detail": f"code ran: {', '.join(ran)} created"}
                for p in corpus.sentinels:
                    p.unlink(missing_ok=True)
            outcome = answer["outcome"]
            report.counts[outcome] += 1
            row = {"case": case.name, "kind": case.kind, "what": case.what, "expect": case.expect,
                   "outcome": outcome, "detail": answer.get("detail", "")}
            report.rows.append(row)
            if is_failure(row):
                report.unexpected.append(row)
            if on_case is not None:
                on_case(row)
    finally:
        if child is not None:
            child.close()
    report.seconds = time.monotonic() - started
    return report


def is_failure(row: dict) -> bool:
    """A crash, a hang, or an outcome other than the case expects."""
    return row["outcome"] in ("crash", "hang") or (row["expect"] != "any" and row["outcome"] != row["expect"])


def main(args: argparse.Namespace) -> int:
    """``ganstudio bench fuzz [--scale N] [--json OUT]``: exit 0 when no case crashed, hung or
    ended other than it should, else 1; 2 without the corpus generator or with a bad --scale."""
    from ..readable import readable

    try:
        scale = int(getattr(args, "scale", None) or 1)  # N times the random mutations (1: ~350 cases)
    except ValueError:
        scale = 0
    if scale < 1:
        print(f"ganstudio bench fuzz: --scale must be a whole number >= 1, not {args.scale!r}", file=sys.stderr)
        return 2
    module = corpus_module()
    if module is None:
        print("ganstudio bench fuzz: needs the source checkout (tests/fuzz/fuzz_corpus.py)", file=sys.stderr)
        return 2

    def show(row: dict) -> None:
        if is_failure(row):
            print(readable(f"{row['outcome'].upper():6} {row['case']}: {row['what']}: {row['detail']}"),
                  flush=True)

    with tempfile.TemporaryDirectory(prefix="ganstudio-fuzz-") as tmp:
        corpus = module.make_corpus(Path(tmp) / "corpus", scale=scale)
        print(f"{len(corpus.cases)} cases (seed {module.SEED}, scale {scale})", flush=True)
        report = run_corpus(corpus, Path(tmp) / "scratch", on_case=show)
    summary = report.summary()
    print(json.dumps(summary), flush=True)
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"task": "fuzz", "seed": module.SEED, "scale": scale, **summary,
                                   "failures": report.unexpected, "rows": report.rows},
                                  indent=1, ensure_ascii=True) + "\n")
        print(f"wrote {out}")
    return 0 if not report.unexpected and not report.executed else 1


__all__ = ["FuzzReport", "corpus_module", "is_failure", "main", "run_corpus"]
