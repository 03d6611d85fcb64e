"""Running a batch job: read → pre-filter → extract → partitions → journal → final tables.

Engines (same chunks, same partitions, same final tables):

* ``local`` with one worker: everything in this process, chunk after chunk.
* ``local`` with N workers: this process reads the inputs, pre-filters and cuts chunks; N worker
  processes (each loading the pipeline once) extract them and write their partitions; this
  process commits each finished chunk to the journal. At most ``2 × N`` chunks are in flight,
  so memory stays bounded whatever the input size.
* ``dask``: one task per input file on a Dask cluster (``--scheduler ADDRESS``, or a local
  cluster of N worker processes). A task reads its file, pre-filters, extracts and writes the
  file's partitions; this process commits them. Input files and ``--out`` must be on storage the
  workers can read and write (always true for a local cluster).

A run that was interrupted (SIGKILL included) is resumed by running the same command again:
committed chunks are read past without being processed, finished files are not read at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.batch import faults
from extractor.batch.chunks import InputFile, ReadState, count_chunks, expand_sources, iter_chunks
from extractor.batch.journal import FORMAT, JOURNAL_NAME, Journal
from extractor.batch.output import (
    FinalInfo,
    compact,
    final_is_current,
    locked_output,
    summarise,
    write_manifest,
)
from extractor.batch.prefilter import Prefilter, PrefilterConfig
from extractor.batch.worker import (
    ChunkSummary,
    FileResult,
    WorkerConfig,
    init_pool_worker,
    peak_rss_mb,
    pipeline,
    pool_process_chunk,
    process_chunk,
    process_file,
)
from extractor.errors import ExtractionError, InputError

ENGINES = ("local", "dask")
MANIFEST_EVERY_SECONDS = 60.0
DASK_CONNECT_TIMEOUT = "20s"


@dataclass(frozen=True)
class BatchOptions:
    """Settings of one ``extractor run``."""

    sources: tuple[Path, ...]
    out: Path
    workers: int = 1
    engine: str = "local"
    scheduler: str | None = None
    chunk_size: int = 2000
    batch_size: int = 64
    prefilter: PrefilterConfig = field(default_factory=PrefilterConfig)
    model: Path | None = None
    fmt: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    restart: bool = False
    progress: bool = True
    parse_all: bool = False  # parse every PubMed record before the pre-filter (same output, slower)

    def validate(self) -> None:
        from extractor.fetch import sources as fetch_sources

        if self.engine not in ENGINES:
            raise InputError(f"--engine {self.engine!r}: use one of {', '.join(ENGINES)}")
        if self.scheduler and self.engine != "dask":
            raise InputError("--scheduler needs --engine dask")
        if self.workers < 1:
            raise InputError("--workers must be at least 1")
        if self.chunk_size < 1:
            raise InputError("--chunk-size must be at least 1")
        if self.batch_size < 1:
            raise InputError("--batch-size must be at least 1")
        fetch_sources.normalise_format(self.fmt)
        unknown = sorted(set(self.options) - set(fetch_sources.OPTIONS))
        if unknown:
            raise InputError(f"unknown reader option(s) {', '.join(unknown)}")
        Prefilter(self.prefilter)  # raises on bad terms


@dataclass
class BatchResult:
    """What a run did; ``totals`` cover the whole job (earlier runs included)."""

    out: Path
    totals: dict[str, Any]
    final: FinalInfo
    problems: list[str]
    complete: bool
    resumed: bool
    chunks_this_run: int
    records_this_run: int
    seconds: float
    peak_rss_main_mb: float
    peak_rss_worker_mb: float

    @property
    def failed(self) -> int:
        return int(self.totals.get("failed", 0))

    @property
    def records_per_second(self) -> float:
        return self.records_this_run / self.seconds if self.seconds > 0 else 0.0


def _pipeline_identity(model: Path | None) -> dict[str, Any]:
    nlp = pipeline(None if model is None else str(model))
    config = nlp.config.copy()
    # spaCy rebuilds [training.score_weights] on every read of nlp.config, normalising the rounded
    # weights again (a saved 0.51 reads 0.52 from the second read on): not part of the identity
    config["training"].pop("score_weights", None)
    return {
        "model": None if model is None else str(model),
        "name": nlp.meta.get("name"),
        "version": nlp.meta.get("version"),
        "pipes": list(nlp.pipe_names),
        "config_sha1": hashlib.sha1(config.to_str().encode("utf-8"), usedforsecurity=False).hexdigest(),
    }


def _read_position(path: str) -> int | None:
    """Byte offset this process has reached in ``path`` (Linux /proc), for the progress estimate."""
    try:
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/self/fd/{fd}") == path:
                    with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as fh:
                        for line in fh:
                            if line.startswith("pos:"):
                                return int(line.split()[1])
    except OSError:
        return None
    return None


class _Progress:
    """tqdm bar in records: rate and ETA; the total is estimated from bytes read so far."""

    def __init__(self, files: list[InputFile], finished: dict[int, int], done_items: int,
                 enabled: bool) -> None:
        from tqdm import tqdm

        self.sizes = {f.index: max(f.size, 1) for f in files}
        self.paths = {f.index: f.path for f in files}
        self.total_bytes = sum(self.sizes.values())
        self.bytes_known = sum(self.sizes[i] for i in finished)
        self.items_known = sum(finished.values())
        self.bar = tqdm(total=None, initial=done_items, unit="rec", desc="run", dynamic_ncols=True,
                        disable=None if enabled else True, smoothing=0.05, mininterval=0.5)
        self.counts: Counter[str] = Counter()

    def file_read(self, index: int, items: int) -> None:
        self.bytes_known += self.sizes[index]
        self.items_known += items
        self._estimate(0, 0)

    def reading(self, index: int, items: int) -> None:
        pos = _read_position(self.paths[index])
        self._estimate(pos or 0, items if pos else 0)

    def _estimate(self, extra_bytes: int, extra_items: int) -> None:
        b = self.bytes_known + extra_bytes
        n = self.items_known + extra_items
        if b > 0 and n > 0:
            self.bar.total = max(int(n * self.total_bytes / b), self.bar.n)
            self.bar.refresh()

    def committed(self, summary: ChunkSummary) -> None:
        self.counts.update(summary.counts)
        self.bar.set_postfix_str(
            f"extracted {self.counts['extracted']:,} · skipped {self.counts['skipped']:,} · "
            f"failed {self.counts['failed']:,}", refresh=False)
        self.bar.update(summary.n_items)

    def close(self) -> None:
        self.bar.close()


class _Run:
    """One invocation: owns the journal, commits chunks, tracks files and figures."""

    def __init__(self, opts: BatchOptions, out: Path, journal: Journal, files: list[InputFile]) -> None:
        self.opts = opts
        self.out = out
        self.journal = journal
        self.files = {f.index: f for f in files}
        states = {f.index: f for f in journal.files()}
        self.pending = [f for f in files if not states[f.index].finished]
        finished = {i: int(s.items or 0) for i, s in states.items() if s.finished}
        done_items = sum(int(r[3]) for r in journal.chunk_rows())
        self.progress = _Progress(files, finished, done_items, opts.progress)
        self.expected: dict[int, tuple[int, int]] = {}  # file → (items, chunks) once fully read
        self.committed_in_file: Counter[int] = Counter()
        self.chunks = 0
        self.records = 0
        self.worker_rss = 0.0
        self.last_manifest = time.monotonic()
        self.runs: list[dict[str, Any]] = json.loads(journal.get_meta("runs") or "[]")

    def commit(self, summary: ChunkSummary) -> None:
        self.journal.commit_chunk(summary, summary.events)
        faults.point("committed")
        self.chunks += 1
        self.records += summary.n_items
        self.worker_rss = max(self.worker_rss, summary.worker_peak_rss_mb)
        self.committed_in_file[summary.file_index] += 1
        self.progress.committed(summary)
        self._maybe_finish(summary.file_index)
        if time.monotonic() - self.last_manifest > MANIFEST_EVERY_SECONDS:
            write_manifest(self.out, self.journal, complete=False, final=None, runs=self.runs)
            self.last_manifest = time.monotonic()

    def file_read(self, file_index: int, items: int) -> None:
        self.expected[file_index] = (items, count_chunks(items, self.opts.chunk_size))
        self.progress.file_read(file_index, items)
        self._maybe_finish(file_index)

    def _maybe_finish(self, file_index: int) -> None:
        if file_index not in self.expected:
            return
        items, chunks = self.expected[file_index]
        if self.journal.chunk_count(file_index) >= chunks:
            self.journal.finish_file(file_index, items, chunks)
            del self.expected[file_index]

    def worker_config(self) -> WorkerConfig:
        o = self.opts
        return WorkerConfig(out_dir=str(self.out), model=None if o.model is None else str(o.model),
                            batch_size=o.batch_size, chunk_size=o.chunk_size, prefilter=o.prefilter,
                            fmt=o.fmt, options=dict(o.options), parse_all=o.parse_all)

    def chunks_to_do(self, file: InputFile) -> Iterator[Any]:
        """Chunks of a file not yet committed (read by this process), then mark it read."""
        state = ReadState()
        prefilter = Prefilter(self.opts.prefilter)
        for chunk in iter_chunks(file, self.opts.chunk_size, prefilter, fmt=self.opts.fmt,
                                 options=self.opts.options, skip=self.journal.done_chunks(file.index),
                                 state=state, parse_all=self.opts.parse_all):
            self.progress.reading(file.index, state.items)
            yield chunk
        self.file_read(file.index, state.items)


# ------------------------------------------------------------------------------------------
# engines


def _run_inline(run: _Run) -> None:
    cfg = run.worker_config()
    for file in run.pending:
        for chunk in run.chunks_to_do(file):
            summary = process_chunk(pipeline(cfg.model), chunk, run.out, cfg.batch_size)
            faults.point("written")
            run.commit(summary)
    run.worker_rss = max(run.worker_rss, peak_rss_mb())


def _run_pool(run: _Run, workers: int) -> None:
    cfg = run.worker_config()
    # forkserver: workers are forked from a fresh single-threaded server that has already imported
    # spaCy and the pipeline code (so each starts in a fraction of a second), and inherit neither
    # this process's threads nor its open files (the output lock, the journal).
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["extractor.batch.worker", "extractor.nlp.pipeline"])
    limit = 2 * workers
    in_flight: set[Future[ChunkSummary]] = set()

    def drain(block_until: int) -> None:
        nonlocal in_flight
        while len(in_flight) > block_until:
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: (f.result().file_index, f.result().chunk_index)):
                faults.point("written")
                run.commit(fut.result())

    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_pool_worker,
                             initargs=(cfg, os.getpid())) as pool:
        try:
            for file in run.pending:
                for chunk in run.chunks_to_do(file):
                    drain(limit - 1)
                    in_flight.add(pool.submit(pool_process_chunk, chunk))
            drain(0)
        except BrokenProcessPool as exc:
            raise ExtractionError(
                "a worker process died (killed, or out of memory?); the chunks finished before are kept: "
                "run the same command again to resume") from exc
        except BaseException:
            for fut in in_flight:
                fut.cancel()
            raise


def local_cluster(workers: int) -> Any:
    """The ``LocalCluster`` of ``--engine dask`` without ``--scheduler``: one single-threaded worker
    process per ``workers``, no dashboard, and no statistical profiler in the workers (it samples the
    task's stack every 10 ms for the dashboard, which is off: 3-5 % of the CPU time of a run,
    measured on two benchmark files, 0.510-0.513 -> 0.486-0.499 CPU-ms per record).

    Without a dashboard the scheduler still serves its health and metrics routes over HTTP, by
    default on port 8787 of every interface of the host it binds, or on another port with a warning
    when 8787 is taken (two runs at once); it gets a free port of 127.0.0.1 instead."""
    import logging

    import dask
    import distributed

    dist: Any = distributed  # untyped library
    # the nannies hand the configuration as it is when they start to their worker processes
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        return dist.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                 dashboard_address=None, silence_logs=logging.ERROR,
                                 scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})


def _run_dask(run: _Run, workers: int, scheduler: str | None) -> None:
    import distributed

    dist: Any = distributed  # untyped library
    cfg = run.worker_config()
    cluster: Any = None
    if scheduler:
        try:
            client = dist.Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot connect to the Dask scheduler ({exc})") \
                from exc
    else:
        cluster = local_cluster(workers)
        client = dist.Client(cluster)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        limit = 2 * n_workers
        todo = list(run.pending)
        queue: Any = dist.as_completed()

        def submit_next() -> None:
            file = todo.pop(0)
            done = frozenset(run.journal.done_chunks(file.index))
            key = f"extractor-run-{file.index}-{os.getpid()}-{time.time_ns()}"
            queue.add(client.submit(process_file, file, cfg, done, pure=False, key=key))

        while todo and queue.count() < limit:
            submit_next()
        for fut in queue:
            result: FileResult = fut.result()
            for summary in result.summaries:
                run.commit(summary)
            run.file_read(result.file_index, result.n_items)
            if todo:
                submit_next()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ------------------------------------------------------------------------------------------




def run_batch(opts: BatchOptions, on_start: Callable[[bool, int], None] | None = None) -> BatchResult:
    """Run (or resume) a batch job; see the module docstring."""
    opts.validate()
    started = time.perf_counter()
    files = expand_sources(opts.sources)
    model = None if opts.model is None else Path(os.path.abspath(opts.model))
    opts = BatchOptions(**{**opts.__dict__, "model": model})
    job = {
        "format": FORMAT,
        "chunk_size": opts.chunk_size,
        "fmt": opts.fmt,
        "options": dict(sorted(opts.options.items())),
        "prefilter": opts.prefilter.to_dict(),
        "pipeline": _pipeline_identity(model),
    }
    with locked_output(opts.out, restart=opts.restart) as out:
        journal = Journal(out / JOURNAL_NAME)
        try:
            resumed = journal.start(job, files)
            missing = [part for *_, part, _c, _p, _s in journal.chunk_rows() if not (out / part).exists()]
            if missing:
                raise InputError(f"{out}: {len(missing)} partition file(s) recorded as done are missing "
                                 f"(e.g. {missing[0]}); use --restart to run the job again")
            run = _Run(opts, out, journal, files)
            if on_start is not None:
                on_start(resumed, len(run.pending))
            try:
                if run.pending:
                    if opts.engine == "dask":
                        _run_dask(run, opts.workers, opts.scheduler)
                    elif opts.workers == 1:
                        _run_inline(run)
                    else:
                        _run_pool(run, opts.workers)
            finally:
                run.progress.close()
            complete = all(f.finished for f in journal.files())
            final = final_is_current(out, journal)
            if final is None:
                final = compact(out, journal)
            seconds = time.perf_counter() - started
            main_rss = peak_rss_mb()
            worker_rss = run.worker_rss if opts.engine != "local" or opts.workers > 1 else main_rss
            run.runs.append({
                "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "engine": opts.engine,
                "workers": opts.workers, "scheduler": opts.scheduler, "chunks": run.chunks,
                "records": run.records, "seconds": round(seconds, 2),
                "records_per_second": round(run.records / seconds, 1) if seconds > 0 else None,
                "peak_rss_mb_main": round(main_rss, 1), "peak_rss_mb_worker": round(worker_rss, 1),
            })
            journal.set_meta("runs", json.dumps(run.runs))
            write_manifest(out, journal, complete=complete, final=final, runs=run.runs)
            totals, problems, _n = journal.totals()
        finally:
            journal.close()
    return BatchResult(out=opts.out, totals=summarise(totals), final=final, problems=problems,
                       complete=complete, resumed=resumed, chunks_this_run=run.chunks,
                       records_this_run=run.records, seconds=seconds, peak_rss_main_mb=main_rss,
                       peak_rss_worker_mb=worker_rss)
