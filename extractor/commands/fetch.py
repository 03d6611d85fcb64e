"""`extractor fetch`: PubMed, Europe PMC, PubMed dumps and exported files → JSONL of abstracts.

Output is JSONL: one ``Abstract.to_dict()`` per line; deletions (PubMed ``DeleteCitation``) as
``Deletion.to_dict()`` lines, ``{"id": ..., "deleted": true, ...}``. Every command prints its
counts at the end (see :mod:`extractor.fetch.output`) and exits with status 1 when any input
could not be read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from extractor.errors import FetchError, InputError
from extractor.records import Abstract, Deletion, Problem

NCBI_EMAIL_HINT = "NCBI asks every E-utilities user for an email address: pass --email or set NCBI_EMAIL"


def _bar(desc: str, total: int | None, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, desc=desc, unit="rec", disable=None if enabled else True, dynamic_ncols=True, leave=False
    )


# options several fetch commands share
MaxOption = Annotated[int | None, typer.Option("--max", min=1, help="Fetch at most N records.")]
RetriesOption = Annotated[int, typer.Option("--retries", min=1, max=20, help="Attempts per request.")]
BackoffOption = Annotated[
    float, typer.Option("--backoff", min=0.0, help="First retry wait in seconds (doubles).")
]
TimeoutOption = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per request.")]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace --out instead of resuming it.")]
ProgressOption = Annotated[bool, typer.Option("--progress/--no-progress", help="Progress bar on stderr.")]
StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Also load the written abstracts into this review store (SQLite, created if missing); "
        "deletions remove abstracts from it.",
    ),
]


def _fill_store(store_path: Path, out: Path) -> None:
    """Load the JSONL just written into the review store: abstracts added, deletions applied."""
    from extractor.fetch.sources import iter_source
    from extractor.review.store import Store

    deleted: list[str] = []

    def abstracts() -> Iterator[Abstract]:
        for item in iter_source(out, "jsonl"):
            if isinstance(item, Abstract):
                yield item
            elif isinstance(item, Deletion):
                deleted.append(item.id)

    with Store(store_path) as store:
        added = store.add_abstracts(abstracts())
        removed = store.delete_abstracts(deleted, reason="DeleteCitation in a PubMed update file")
    typer.echo(f"store {store_path}: {added} abstract(s) new or changed, {removed} deleted", err=True)


def _finish(title: str, report: Any, store: Path | None = None, out: Path | None = None) -> None:
    from extractor.commands._common import report as print_report

    if store is not None and out is not None and out.exists():
        _fill_store(store, out)
    print_report(title, report.counts(), report.problems)
    if report.failed:
        raise typer.Exit(code=1)


def _state_path(out: Path) -> Path:
    return out.with_name(out.name + ".state.json")


def _open_state(out: Path, key: dict[str, Any], overwrite: bool) -> tuple[bool, dict[str, Any]]:
    """Decide whether to resume ``out``. Returns (resume, saved state)."""
    state_path = _state_path(out)
    if overwrite or not out.exists():
        state_path.unlink(missing_ok=True)
        return False, {}
    saved: dict[str, Any] = {}
    if state_path.exists():
        try:
            saved = json.loads(state_path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            saved = {}
    if saved.get("key") != key:
        raise InputError(
            f"{out} exists and was not written by this same fetch (query or PMIDs differ); "
            "pass --overwrite to replace it, or choose another --out"
        )
    return True, saved


def _save_state(out: Path, key: dict[str, Any], **extra: Any) -> None:
    path = _state_path(out)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"key": key, **extra}, indent=1), encoding="utf-8")
    tmp.replace(path)


def read_pmids(value: str) -> list[str]:
    """PMIDs from a file (one per line, or separated by commas/spaces) or a comma-separated list."""
    path = Path(value)
    if path.is_file():
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        where = str(path)
    else:
        if not re.fullmatch(r"[\d,\s;]+", value):
            raise InputError(f"--pmids {value!r}: no such file, and not a comma-separated list of PMIDs")
        text, where = value, "--pmids"
    pmids: list[str] = []
    for token in re.split(r"[\s,;]+", text):
        if not token:
            continue
        if not token.isdigit():
            raise InputError(f"{where}: {token!r} is not a PMID (digits only)")
        pmids.append(str(int(token)))
    if not pmids:
        raise InputError(f"{where}: no PMIDs found")
    return pmids


def _check_out(out: Path) -> None:
    if out.suffix.lower() not in (".jsonl", ".ndjson", ".json"):
        raise InputError(f"{out}: the output is JSONL; name it *.jsonl")
    if out.is_dir():
        raise InputError(f"{out}: is a directory, expected a file name")


def _check_inputs(paths: Iterable[Path]) -> list[Path]:
    out = list(paths)
    if not out:
        raise InputError("no input files given")
    for p in out:
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")
    return out


def register(app: typer.Typer) -> None:
    fetch_app = typer.Typer(
        name="fetch",
        help="Fetch abstracts (PubMed, Europe PMC, PubMed dumps, exported files) into JSONL.",
        no_args_is_help=True,
    )

    @fetch_app.command("pubmed")
    def pubmed(
        out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file; re-running resumes it.")],
        query: Annotated[
            str | None, typer.Option("--query", "-q", help="PubMed search, e.g. 'low back pain[tiab]'.")
        ] = None,
        pmids: Annotated[
            str | None, typer.Option("--pmids", help="A file of PMIDs, or a comma-separated list.")
        ] = None,
        max_records: MaxOption = None,
        api_key: Annotated[
            str | None,
            typer.Option(
                "--api-key", envvar="NCBI_API_KEY", help="NCBI API key: 10 requests/s instead of 3."
            ),
        ] = None,
        email: Annotated[
            str | None, typer.Option("--email", envvar="NCBI_EMAIL", help="Sent to NCBI with `tool`.")
        ] = None,
        base_url: Annotated[
            str, typer.Option("--base-url", help="E-utilities base URL.")
        ] = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
        batch_size: Annotated[
            int, typer.Option("--batch-size", min=1, max=10_000, help="PMIDs per efetch.")
        ] = 200,
        retries: RetriesOption = 6,
        backoff: BackoffOption = 1.0,
        timeout: TimeoutOption = 60.0,
        overwrite: OverwriteOption = False,
        store: StoreOption = None,
        show_progress: ProgressOption = True,
    ) -> None:
        """Search PubMed (esearch + efetch) or fetch given PMIDs. Interrupted runs resume."""
        from extractor.fetch.eutils import EUtils
        from extractor.fetch.http import RetryPolicy
        from extractor.fetch.output import FetchReport, JsonlOut, consume

        _check_out(out)
        if (query is None) == (pmids is None):
            raise InputError("give exactly one of --query or --pmids")
        if not email:
            typer.echo(f"extractor: note: {NCBI_EMAIL_HINT}", err=True)
        pmid_list = read_pmids(pmids) if pmids is not None else None
        key: dict[str, Any] = {"command": "pubmed", "query": query, "max": max_records}
        if pmid_list is not None:
            key["pmids_sha1"] = hashlib.sha1(",".join(pmid_list).encode(), usedforsecurity=False).hexdigest()
        resume, _saved = _open_state(out, key, overwrite)
        client = EUtils(
            base_url,
            api_key=api_key,
            email=email,
            batch_size=batch_size,
            timeout=timeout,
            retry=RetryPolicy(max_attempts=retries, backoff=backoff),
        )
        report = FetchReport()
        with JsonlOut(out, resume=resume) as sink:
            _save_state(out, key, complete=False)
            bar = _bar("pubmed", len(pmid_list) if pmid_list else None, show_progress)

            def skipped(n: int) -> None:
                report.skipped["already in output"] += n
                bar.update(n)

            def total(n: int) -> None:
                bar.total = n
                bar.refresh()

            items: Iterator[Abstract | Problem]
            if pmid_list is not None:
                items = client.fetch_pmids(pmid_list, skip=sink.has, on_skipped=skipped)
            else:
                assert query is not None
                items = client.fetch_query(
                    query, max_records=max_records, skip=sink.has, on_total=total, on_skipped=skipped
                )
            try:
                for item in items:
                    consume(item, sink, report)
                    if isinstance(item, Abstract):
                        bar.update(1)
                        if report.written % 200 == 0:
                            sink.flush()
            except FetchError as exc:
                report.problem(Problem("pubmed", f"{exc}; re-run the same command to resume"))
            finally:
                bar.close()
                sink.flush()
        _save_state(
            out,
            key,
            complete=not report.failed,
            http_requests=client.http.stats.requests,
            http_retries=client.http.stats.retries,
        )
        if client.http.stats.retries:
            reasons = ", ".join(f"{k} {v}" for k, v in client.http.stats.reasons.items())
            typer.echo(f"extractor: {client.http.stats.retries} request(s) retried ({reasons})", err=True)
        _finish(f"fetch pubmed → {out}", report, store, out)

    @fetch_app.command("europepmc")
    def europepmc(
        out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file; re-running resumes it.")],
        query: Annotated[
            str, typer.Option("--query", "-q", help="Europe PMC search, e.g. 'knee pain AND SRC:MED'.")
        ],
        max_records: MaxOption = None,
        email: Annotated[
            str | None, typer.Option("--email", envvar="EPMC_EMAIL", help="Sent with each request.")
        ] = None,
        base_url: Annotated[
            str, typer.Option("--base-url", help="Europe PMC REST base URL.")
        ] = "https://www.ebi.ac.uk/europepmc/webservices/rest",
        page_size: Annotated[
            int, typer.Option("--page-size", min=1, max=1000, help="Records per page.")
        ] = 1000,
        retries: RetriesOption = 6,
        backoff: BackoffOption = 1.0,
        timeout: TimeoutOption = 60.0,
        overwrite: OverwriteOption = False,
        store: StoreOption = None,
        show_progress: ProgressOption = True,
    ) -> None:
        """Search Europe PMC (resultType=core, cursorMark paging). Interrupted runs resume."""
        from extractor.fetch.europepmc import EuropePMC
        from extractor.fetch.http import RetryPolicy
        from extractor.fetch.output import FetchReport, JsonlOut, consume

        _check_out(out)
        key: dict[str, Any] = {"command": "europepmc", "query": query, "max": max_records}
        resume, saved = _open_state(out, key, overwrite)
        cursor = str(saved.get("cursor") or "*") if resume else "*"
        if resume and saved.get("complete"):
            cursor = "*"  # a finished search: look again from the start for new records
        client = EuropePMC(
            base_url,
            page_size=page_size,
            email=email,
            timeout=timeout,
            retry=RetryPolicy(max_attempts=retries, backoff=backoff),
        )
        report = FetchReport()
        with JsonlOut(out, resume=resume) as sink:
            already = len(sink.ids)
            remaining = None if max_records is None else max(0, max_records - already)
            bar = _bar("europepmc", None, show_progress)
            _save_state(out, key, cursor=cursor, complete=False)
            try:
                if remaining != 0:
                    for page in client.search(query, max_records=remaining, cursor=cursor):
                        if bar.total is None:
                            bar.total = (
                                page.hit_count if max_records is None else min(page.hit_count, max_records)
                            )
                            bar.refresh()
                        for item in page.records:
                            consume(item, sink, report)
                        bar.update(len(page.records))
                        sink.flush()
                        _save_state(
                            out,
                            key,
                            cursor=page.next_cursor or page.cursor,
                            complete=False,
                            hit_count=page.hit_count,
                        )
            except FetchError as exc:
                report.problem(Problem("europepmc", f"{exc}; re-run the same command to resume"))
            finally:
                bar.close()
        if not report.failed:
            _save_state(out, key, cursor="*", complete=True)
        _finish(f"fetch europepmc → {out}", report, store, out)

    @fetch_app.command("dump")
    def dump(
        files: Annotated[
            list[Path],
            typer.Argument(
                help="Baseline/update files (.xml/.xml.gz), applied in the order given; "
                "folders are read in name order."
            ),
        ],
        out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file (replaced).")],
        merge: Annotated[
            bool,
            typer.Option(
                "--merge/--keep-all",
                help="--merge (default): one final line per PMID (later versions replace earlier ones, "
                "deletions remove them); --keep-all: every record and deletion in file order, "
                "constant disk and memory.",
            ),
        ] = True,
        tmp_dir: Annotated[
            Path | None, typer.Option("--tmp-dir", help="Where --merge keeps its temporary index.")
        ] = None,
        verify_md5: Annotated[
            bool, typer.Option("--verify-md5/--no-verify-md5", help="Check <file>.md5 when present.")
        ] = True,
        store: StoreOption = None,
        show_progress: ProgressOption = True,
    ) -> None:
        """Read PubMed baseline/update XML dumps (streamed; md5-checked) into JSONL."""
        from extractor.fetch.dump import DumpMerger
        from extractor.fetch.output import FetchReport, JsonlOut, consume
        from extractor.fetch.sources import iter_source

        _check_out(out)
        paths = _check_inputs(files)
        report = FetchReport()
        bar = _bar("dump", None, show_progress)
        try:
            if not merge:
                with JsonlOut(out, dedupe=False) as sink:
                    for path in paths:
                        for item in iter_source(path, "pubmed-xml", verify_md5=verify_md5):
                            consume(item, sink, report)
                            bar.update(0 if isinstance(item, Problem) else 1)
            else:
                with DumpMerger(tmp_dir) as merger:
                    for path in paths:
                        for item in iter_source(path, "pubmed-xml", verify_md5=verify_md5):
                            if isinstance(item, Problem):
                                report.problem(item)
                                continue
                            report.read += 1
                            merger.add(item)
                            bar.update(1)
                    report.skipped.update(merger.counts)
                    with JsonlOut(out, dedupe=False) as sink:
                        for rec in merger.final():
                            consume(rec, sink, report)
                            report.read -= 1  # counted once, when read from the files
        finally:
            bar.close()
        _finish(f"fetch dump → {out}", report, store, out)

    @fetch_app.command("file")
    def file(
        files: Annotated[
            list[Path],
            typer.Argument(
                help="Files or folders: PubMed XML, Europe PMC JSON/XML, RIS, MEDLINE/nbib, "
                "CSV/TSV, JSONL, .txt."
            ),
        ],
        out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file (replaced).")],
        fmt: Annotated[
            str | None,
            typer.Option(
                "--format",
                "-f",
                help="Force a format: pubmed-xml, europepmc-json, europepmc-xml, ris, medline, csv, "
                "tsv, jsonl, txt (default: detect).",
            ),
        ] = None,
        id_column: Annotated[
            str | None, typer.Option("--id-column", help="CSV/JSONL: the id column.")
        ] = None,
        text_column: Annotated[
            str | None, typer.Option("--text-column", help="CSV/JSONL: full text, kept unchanged.")
        ] = None,
        title_column: Annotated[
            str | None, typer.Option("--title-column", help="CSV/JSONL: the title column.")
        ] = None,
        abstract_column: Annotated[
            str | None,
            typer.Option("--abstract-column", help="CSV/JSONL: abstract; text = title + newline + abstract."),
        ] = None,
        encoding: Annotated[str, typer.Option("--encoding", help="Text files' encoding.")] = "utf-8",
        store: StoreOption = None,
        show_progress: ProgressOption = True,
    ) -> None:
        """Read exported or saved files into JSONL (duplicate ids are written once)."""
        import codecs

        from extractor.fetch.output import FetchReport, JsonlOut, consume
        from extractor.fetch.sources import iter_source, normalise_format

        _check_out(out)
        paths = _check_inputs(files)
        normalise_format(fmt)
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise InputError(f"--encoding {encoding!r}: unknown encoding") from exc
        options: dict[str, Any] = {
            k: v
            for k, v in {
                "id_column": id_column,
                "text_column": text_column,
                "title_column": title_column,
                "abstract_column": abstract_column,
                "encoding": encoding,
            }.items()
            if v
        }
        report = FetchReport()
        bar = _bar("file", None, show_progress)
        try:
            with JsonlOut(out) as sink:
                for path in paths:
                    for item in iter_source(path, fmt, **options):
                        consume(item, sink, report)
                        bar.update(0 if isinstance(item, Problem) else 1)
        finally:
            bar.close()
        _finish(f"fetch file → {out}", report, store, out)

    app.add_typer(fetch_app, name="fetch")
