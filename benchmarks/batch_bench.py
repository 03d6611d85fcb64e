"""Speed and memory of `extractor run` on a PubMed-baseline-sized file, and a whole-baseline projection.

Builds ``pubmed26n9001.xml.gz`` (+ ``.md5``) in the PubMed baseline format: ``--records`` (default
30,000, one baseline file) citations whose titles and abstracts are the real abstracts of
``../shared/data/abstracts_pool.jsonl`` repeated with new PMIDs, each wrapped in a realistic
MEDLINE envelope (journal, dates, authors with affiliations, MeSH, history, ids; see
``extractor.batch.synth``). Then measures on that file:

* the bare lxml parse rate (``iterparse`` + clear, gzip included: the floor for any reader);
* the fetch stage's reader (``iter_source``: md5 check + parse + building ``Abstract``s);
* the pre-filter's pass rate and cost, and the pipeline's own rate on the abstracts that pass;
* ``extractor run`` end to end (a fresh process, as a user runs it) with 1 and 2 workers:
  records/s over the wall time, the CPU time and peak resident memory of every process of the
  run (sampled from /proc every 0.2 s);
* the projection for the whole baseline (``--baseline-files``, default 1,334 files of 30,000):
  from the measured wall time, and from CPU time on 2 dedicated cores (the machine may be shared).

Component rates are per CPU-second (``time.process_time``), so other load does not distort them.

    .venv/bin/python benchmarks/batch_bench.py [--records 30000] [--workers 1 2] [--keep DIR]

Reads ``../shared`` (third-party, read-only); writes only to a temporary folder.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from extractor.batch.prefilter import Prefilter
from extractor.batch.synth import SynthArticle, split_title, write_pubmed_xml
from extractor.fetch import iter_source
from extractor.nlp import extract, load_pipeline
from extractor.records import Abstract

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("EXTRACTOR_SHARED", REPO.parent / "shared"))
TARGET_SECONDS = 3600


def build(path: Path, n: int) -> tuple[int, int]:
    with (SHARED / "data" / "abstracts_pool.jsonl").open(encoding="utf-8") as fh:
        pool = [json.loads(line) for line in fh if line.strip()]

    def articles() -> Iterator[SynthArticle]:
        for i in range(n):
            rec = pool[i % len(pool)]
            title, body = split_title(str(rec.get("title") or ""), str(rec["text"]))
            yield SynthArticle(pmid=str(40_000_000 + i), title=title, parts=((None, body),),
                               year=1990 + i % 35)

    write_pubmed_xml(path, articles())
    data = path.read_bytes()
    path.with_name(path.name + ".md5").write_text(f"MD5({path.name})= {hashlib.md5(data).hexdigest()}\n",
                                                  encoding="ascii")
    with gzip.open(path, "rb") as gz:
        raw = sum(len(chunk) for chunk in iter(lambda: gz.read(1 << 20), b""))
    return len(data), raw


def bare_parse(path: Path) -> float:
    from lxml import etree

    t0 = time.process_time()
    n = 0
    with gzip.open(path, "rb") as fh:
        for _ev, elem in etree.iterparse(fh, events=("end",), tag="PubmedArticle"):
            n += 1
            elem.clear(keep_tail=False)
            while elem.getprevious() is not None:
                del elem.getparent()[0]
    return n / (time.process_time() - t0)


class TreeSampler:
    """Peak RSS of a process and all its descendants, sampled from /proc."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak_each: dict[int, float] = {}
        self.cpu_each: dict[int, float] = {}
        self.peak_total = 0.0
        self._tick = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0.0
            for pid in self._tree():
                try:
                    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                        rss = next((int(line.split()[1]) / 1024 for line in fh
                                    if line.startswith("VmRSS:")), 0.0)
                    with open(f"/proc/{pid}/stat", "rb") as fh:
                        fields = fh.read().rsplit(b")", 1)[1].split()
                    self.cpu_each[pid] = (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
                except (OSError, IndexError, ValueError):
                    continue
                total += rss
                self.peak_each[pid] = max(self.peak_each.get(pid, 0.0), rss)
            self.peak_total = max(self.peak_total, total)
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_each.values())


def run_batch(path: Path, out: Path, workers: int) -> dict[str, float]:
    cmd = [sys.executable, "-m", "extractor.cli", "run", str(path), "--out", str(out),
           "--workers", str(workers), "--no-progress"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            start_new_session=True)
    sampler = TreeSampler(proc.pid)
    try:
        _stdout, stderr = proc.communicate(timeout=3600)
    finally:
        sampler.stop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"extractor run failed ({proc.returncode}):\n{stderr}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    run = manifest["runs"][-1]
    records = manifest["totals"]["read"]
    others = [v for pid, v in sampler.peak_each.items() if pid != proc.pid]
    return {"records": records, "wall": wall, "rate": records / wall, "inner_rate": run["records_per_second"],
            "cpu": sampler.cpu_seconds,
            "rss_main": sampler.peak_each.get(proc.pid, 0.0), "rss_worker_max": max(others, default=0.0),
            "rss_total": sampler.peak_total, "processes": len(sampler.peak_each),
            "extracted": manifest["totals"]["extracted"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--baseline-files", type=int, default=1334)
    parser.add_argument("--keep", type=Path, help="build the file here and keep it")
    args = parser.parse_args()
    if not (SHARED / "data" / "abstracts_pool.jsonl").exists():
        raise SystemExit(f"needs {SHARED}/data/abstracts_pool.jsonl")
    tmp = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    folder = args.keep or tmp
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path = folder / "pubmed26n9001.xml.gz"
        t0 = time.perf_counter()
        gz_bytes, raw_bytes = build(path, args.records)
        print(f"built {path.name}: {args.records:,} records, {gz_bytes / 1e6:.1f} MB gzipped, "
              f"{raw_bytes / 1e6:.1f} MB XML ({raw_bytes / args.records / 1e3:.1f} kB/record) "
              f"in {time.perf_counter() - t0:.1f} s")
        print(f"os.cpu_count() {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")

        bare = bare_parse(path)
        print("rates below are per CPU-second of this process (robust to other load on the machine)")
        print(f"bare lxml parse (iterparse + clear, gunzip included): {bare:,.0f} records/s")

        t0 = time.process_time()
        abstracts = [a for a in iter_source(path) if isinstance(a, Abstract)]
        reader = len(abstracts) / (time.process_time() - t0)
        print(f"fetch reader iter_source (md5 + parse + Abstract): {reader:,.0f} records/s")

        pre = Prefilter()
        t0 = time.process_time()
        passed = [a for a in abstracts if pre.reason(a) is None]
        pre_us = (time.process_time() - t0) / len(abstracts) * 1e6
        pass_rate = len(passed) / len(abstracts)
        print(f"pre-filter: {len(passed):,} of {len(abstracts):,} pass ({pass_rate:.1%}); "
              f"{pre_us:.0f} µs/record")

        nlp = load_pipeline()
        sample = passed[: min(len(passed), 1500)]
        t0 = time.process_time()
        for _ in extract(nlp, sample):
            pass
        nlp_rate = len(sample) / (time.process_time() - t0)
        print(f"NLP pipeline alone, one process, on abstracts that pass: {nlp_rate:,.0f} abstracts/s "
              f"({1000 / nlp_rate:.2f} ms each)")
        del abstracts, passed, sample
        per_record_ms = 1000 / reader + pre_us / 1000 + pass_rate * 1000 / nlp_rate
        print(f"per input record on one core: reader {1000 / reader:.3f} ms + pre-filter "
              f"{pre_us / 1000:.3f} ms + pipeline {pass_rate * 1000 / nlp_rate:.3f} ms "
              f"= {per_record_ms:.3f} ms "
              f"→ at best {1000 / per_record_ms:,.0f} records/s per core")

        total = args.baseline_files * 30_000
        print()
        print("| workers | records/s (wall, incl. start-up) | records/s (run) | CPU s (all processes) | "
              "records per CPU-s | peak RSS main / largest worker / all processes | "
              "baseline projection (wall) |")
        print("|---|---|---|---|---|---|---|")
        results = {}
        for w in args.workers:
            out = folder / f"out-w{w}"
            shutil.rmtree(out, ignore_errors=True)
            r = run_batch(path, out, w)
            results[w] = r
            hours = total / r["rate"] / 3600
            print(f"| {w} | {r['rate']:,.0f} | {r['inner_rate']:,.0f} | {r['cpu']:,.1f} | "
                  f"{r['records'] / r['cpu']:,.0f} | {r['rss_main']:,.0f} / "
                  f"{r['rss_worker_max']:,.0f} / {r['rss_total']:,.0f} MB | {hours:,.1f} h |", flush=True)
        print()
        best = max(results.values(), key=lambda r: r["rate"])
        need = total / TARGET_SECONDS
        print(f"whole baseline: {args.baseline_files:,} files × 30,000 = {total / 1e6:,.1f} M records; at "
              f"{best['rate']:,.0f} records/s: {total / best['rate'] / 3600:,.1f} h (the 1-hour target needs "
              f"{need:,.0f} records/s, {need / best['rate']:.1f}× faster)")
        w_max = max(results)
        per_cpu = results[w_max]["records"] / results[w_max]["cpu"]
        print(f"CPU-bound with {w_max} workers on {w_max} free cores ({w_max} × {per_cpu:,.0f} records per "
              f"CPU-second): {total / (w_max * per_cpu) / 3600:,.1f} h")
        budget_ms = 2 * TARGET_SECONDS * 1000 / total
        read_ms = 1000 / reader + pre_us / 1000
        nlp_ms = pass_rate * 1000 / nlp_rate
        print(f"1 hour on 2 cores leaves {budget_ms:.3f} core-ms per record; reading + pre-filter take "
              f"{read_ms:.3f} ms, the pipeline {nlp_ms:.3f} ms "
              f"({nlp_ms / (read_ms + nlp_ms):.0%} of the work)")
        if read_ms < budget_ms:
            need_nlp = pass_rate / ((budget_ms - read_ms) / 1000)
            print(f"the pipeline would need {need_nlp:,.0f} abstracts/s per core (now {nlp_rate:,.0f}) "
                  "to meet the target")
        else:
            print("reading alone exceeds that budget")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
