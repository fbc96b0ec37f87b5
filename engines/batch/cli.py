"""``ganstudio batch IN_DIR OUT_DIR --task T --model ID ...``: exit 0 when every file is done,
1 when some failed (listed) or the run stopped early, 2 when the command cannot run as given."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .plan import FORMATS

TASK_CHOICES = ("upscale", "inpaint", "colorize", "synthesize")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("in_dir", metavar="IN_DIR", help="folder of photos (never modified)")
    p.add_argument("out_dir", metavar="OUT_DIR", help="results, plus the journal that makes the run resumable")
    p.add_argument("--task", required=True, choices=TASK_CHOICES)
    p.add_argument("--model", default="default", help="model id (see `ganstudio models list`); default: default")
    p.add_argument("--scale", type=int, default=4, help="upscale: 2, 3, 4 or 8 (default 4)")
    p.add_argument("--tile", type=int, default=0, help="tile edge in input pixels (0 = automatic)")
    p.add_argument("--radius", type=float, default=5.0, help="inpaint: classical methods' radius (px)")
    p.add_argument("--seed", type=int, default=0, help="synthesize: random seed")
    p.add_argument("--masks", help="inpaint: folder of masks, same names as the photos (white = fill)")
    p.add_argument("--recursive", action="store_true", help="include sub-folders (kept in the output)")
    p.add_argument("--format", default="keep", choices=FORMATS, help="output format (default: keep)")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1-100 (default 95)")
    p.add_argument("--overwrite", action="store_true", help="replace files in OUT_DIR this batch did not write")
    p.add_argument("--redo", action="store_true", help="redo every file, even those done in an earlier run")
    p.add_argument("--jobs", type=int, default=1, help="files processed in parallel (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar; errors and the summary only")
    p.add_argument("--cluster", metavar="ray[:ADDRESS]",
                   help="process the files on Ray actors (pip install 'ganstudio[cluster]'): 'ray' starts a "
                        "local instance on this machine (loopback only), 'ray:auto' or 'ray:HOST:PORT' joins a "
                        "cluster. This process alone writes OUT_DIR and its journal. Inputs and outputs "
                        "travel as bytes through Ray's object store, unless --shared")
    p.add_argument("--workers", type=int, help="--cluster: worker actors, each loads the model once "
                                               "(default: cores - 1 locally; the cluster's GPUs, else its CPUs - 1)")
    p.add_argument("--shared", action="store_true",
                   help="--cluster: IN_DIR (and --masks) are on storage every node sees at the same path; "
                        "workers read inputs there (outputs still come back as bytes)")


def main(args: argparse.Namespace) -> int:
    from ..readable import readable
    from .plan import BatchOptions, BatchUsageError
    from .progress import ProgressBar
    from .runner import BatchRun

    options = BatchOptions(
        task=args.task, model=args.model, scale=args.scale, tile=args.tile, radius=args.radius,
        seed=args.seed, masks=Path(args.masks) if args.masks else None, recursive=args.recursive,
        format=args.format, quality=args.quality, overwrite=args.overwrite, jobs=args.jobs,
        device=getattr(args, "device", "auto"),  # checked by engines/cli_device.py
    )
    try:
        if getattr(args, "cluster", None):  # Ray is imported only on this path (issue 23)
            from .cluster import ClusterBatchRun, parse_cluster

            run = ClusterBatchRun(args.in_dir, args.out_dir, options, address=parse_cluster(args.cluster),
                                  workers=args.workers, shared=args.shared)
        elif args.workers is not None or args.shared:
            raise BatchUsageError("--workers and --shared go with --cluster")
        else:
            run = BatchRun(args.in_dir, args.out_dir, options)
        items = run.prepare()
    except BatchUsageError as exc:
        print(f"ganstudio batch: {exc}", file=sys.stderr)
        return 2
    if args.redo:
        run.redo = {item.rel for item in items}
    if not items:
        print(f"ganstudio batch: no images in {args.in_dir}"
              + ("" if args.recursive else " (use --recursive for sub-folders)"), file=sys.stderr)
        return 0
    bar = ProgressBar(sys.stderr) if not args.quiet else None
    if bar is not None and hasattr(run, "worker_line"):
        from .cluster import ClusterProgress

        bar = ClusterProgress(sys.stderr, run)
    gen = run.run()
    try:
        while True:
            try:
                ev = next(gen)
            except StopIteration as stop:
                summary = stop.value
                break
            if bar is not None:
                bar.update(ev)
            elif ev.kind == "failed":
                print(readable(f"FAILED {ev.rel}: {ev.message}"), file=sys.stderr)
            elif ev.kind == "plan":  # skipped folders, a folder named like a photo: not silent
                for note in ev.notes:
                    print(readable(f"warning: {note}"), file=sys.stderr)
    except BatchUsageError as exc:  # e.g. another batch took the output folder meanwhile
        print(f"ganstudio batch: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the journal itself could not be written (disk full, folder gone)
        if bar is not None:
            bar.close()
        print(f"ganstudio batch: stopped: cannot write the journal in {args.out_dir}: "
              f"{exc.strerror or exc}; run the same command again to resume", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        run.cancel.cancel()
        gen.close()
        if bar is not None:
            bar.close()
        print("\nganstudio batch: interrupted; run the same command again to resume", file=sys.stderr)
        return 1
    if bar is not None:
        bar.close()
    done, kept, failed = len(summary.done), len(summary.kept), summary.failed
    line = f"{done} done, {kept} kept from an earlier run, {len(failed)} failed, {summary.total} in all"
    print(line, file=sys.stderr)
    if failed:
        print("failed files:", file=sys.stderr)
        for rel, reason in failed:
            print(readable(f"  {rel}: {reason}"), file=sys.stderr)
    if summary.stopped:
        print(f"ganstudio batch: stopped early: {summary.stopped}", file=sys.stderr)
    if hasattr(run, "summary_lines"):
        for text in run.summary_lines():
            print(text, file=sys.stderr)
    return 0 if summary.complete else 1
