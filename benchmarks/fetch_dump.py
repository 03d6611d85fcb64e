"""Speed and memory of the fetch stage on a baseline-sized PubMed file.

No full-size baseline file ships with ../shared, so this builds one: the abstracts of
``../shared/data/abstracts_pool.jsonl`` (~5,100) repeated with fresh PMIDs up to ``--records``
(default 30,000, the size of one baseline file) in PubMed baseline XML, gzipped, with an
``.md5`` file, plus an update file that re-issues 10% of the PMIDs and deletes 1%. The files are
written to a temporary folder and removed afterwards.

Prints: build size; ``iter_source`` throughput (md5 check + parse) with the resident memory
(RSS) sampled every 5,000 records, which stays flat if parsing streams; and the time and memory
of ``extractor fetch dump`` applying baseline + update with ``--merge``.

    .venv/bin/python benchmarks/fetch_dump.py [--records 30000]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from html import escape
from pathlib import Path

from extractor.batch.worker import peak_rss_mb

REPO = Path(__file__).resolve().parents[1]
POOL = Path(os.environ.get("EXTRACTOR_SHARED", REPO.parent / "shared")) / "data" / "abstracts_pool.jsonl"


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def article(pmid: int, title: str, abstract: str) -> str:
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
        f"<Article><Journal><JournalIssue><PubDate><Year>2020</Year></PubDate></JournalIssue>"
        f"<Title>Benchmark journal</Title></Journal><ArticleTitle>{escape(title)}</ArticleTitle>"
        f"<Abstract><AbstractText>{escape(abstract)}</AbstractText></Abstract><Language>eng</Language>"
        f'</Article></MedlineCitation><PubmedData><ArticleIdList><ArticleId IdType="pubmed">{pmid}'
        f"</ArticleId></ArticleIdList></PubmedData></PubmedArticle>\n"
    )


def write_dump(path: Path, body: str) -> None:
    data = gzip.compress(
        (
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE PubmedArticleSet>\n<PubmedArticleSet>\n'
            + body
            + "</PubmedArticleSet>\n"
        ).encode("utf-8"),
        compresslevel=6,
    )
    path.write_bytes(data)
    path.with_name(path.name + ".md5").write_text(f"MD5({path.name})= {hashlib.md5(data).hexdigest()}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=30_000)
    args = parser.parse_args()
    if not POOL.is_file():
        print(f"skipped: {POOL} not found (needs ../shared)")
        return 0
    pool = [json.loads(line) for line in POOL.read_text(encoding="utf-8").splitlines() if line.strip()]
    from extractor.fetch import iter_source
    from extractor.records import Abstract, Deletion, Problem

    with tempfile.TemporaryDirectory(prefix="fetch-bench-") as tmp:
        base = Path(tmp) / "pubmed26n0001.xml.gz"
        update = Path(tmp) / "pubmed26n0002.xml.gz"
        t0 = time.perf_counter()
        parts = []
        for i in range(args.records):
            rec = pool[i % len(pool)]
            title = rec.get("title") or f"Pool record {rec['id']}"
            body = rec["text"].removeprefix(rec.get("title") or "").lstrip("\n")
            parts.append(article(30_000_000 + i, title, body))
        write_dump(base, "".join(parts))
        n_upd = args.records // 10
        upd = "".join(
            article(30_000_000 + i * 7 % args.records, "Re-issued record", "Updated text, VAS 3 ± 1.")
            for i in range(n_upd)
        )
        dels = "".join(
            f'<PMID Version="1">{30_000_000 + i * 13 % args.records}</PMID>'
            for i in range(args.records // 100)
        )
        write_dump(update, upd + f"<DeleteCitation>{dels}</DeleteCitation>\n")
        raw = len(gzip.decompress(base.read_bytes()))
        print(
            f"built {args.records} records: {base.stat().st_size / 1e6:.1f} MB gz, {raw / 1e6:.1f} MB XML "
            f"({time.perf_counter() - t0:.1f} s); update: {n_upd} re-issued, {args.records // 100} deleted"
        )
        del parts, pool

        start_rss = rss_mb()
        t0 = time.perf_counter()
        n = problems = 0
        samples = []
        for item in iter_source(base):
            if isinstance(item, Problem):
                problems += 1
                continue
            assert isinstance(item, Abstract | Deletion)
            n += 1
            if n % 5000 == 0:
                samples.append(f"{n}: {rss_mb():.0f}")
        dt = time.perf_counter() - t0
        print(
            f"iter_source: {n} records, {problems} problems in {dt:.2f} s = {n / dt:,.0f} records/s "
            f"(md5 check included)"
        )
        print(f"RSS before {start_rss:.0f} MB; during parse (records: MB) " + ", ".join(samples))

        out = Path(tmp) / "out.jsonl"
        for mode in ("--merge", "--keep-all"):
            t0 = time.perf_counter()
            cmd = [
                sys.executable,
                "-c",
                "from extractor.cli import main; main()",
                "fetch",
                "dump",
                str(base),
                str(update),
                "--out",
                str(out),
                "--no-progress",
                mode,
            ]
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            peak = 0.0
            while proc.poll() is None:  # the child's own high-water mark (VmHWM), read until it exits
                peak = max(peak, peak_rss_mb(proc.pid))
                time.sleep(0.05)
            err = proc.stderr.read() if proc.stderr else ""
            dt = time.perf_counter() - t0
            print(
                f"fetch dump {mode} (base + update): {dt:.2f} s, peak RSS {peak:.0f} MB, "
                f"exit {proc.returncode}"
            )
            print("  " + (err.strip().splitlines() or ["(no output)"])[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
