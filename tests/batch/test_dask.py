"""`--engine dask`: the same job on a 2-worker Dask LocalCluster (processes) writes exactly what
the local engine writes."""

from __future__ import annotations

import contextlib
import socket
import warnings
from pathlib import Path

import pytest

from extractor.batch import BatchOptions, run_batch
from extractor.errors import InputError

from .conftest import Dump, snapshot

CHUNK = 5


@pytest.mark.slow
def test_dask_cluster_at_an_address_equals_local_engine(dump: Dump, tmp_path: Path) -> None:
    """`--engine dask --scheduler ADDRESS` against a 2-worker LocalCluster of processes (the one
    the engine starts without an address, whose workers do not profile)."""
    import dask
    from distributed import Client

    from extractor.batch.runner import local_cluster

    local = tmp_path / "local"
    run_batch(BatchOptions(sources=tuple(dump.files), out=local, chunk_size=CHUNK, progress=False))
    on_dask = tmp_path / "dask"
    with contextlib.ExitStack() as stack:
        # port 8787 taken, as by a run going on beside this one: no warning, a free local port
        taken = stack.enter_context(socket.socket())
        with contextlib.suppress(OSError):  # already taken
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        seen = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.simplefilter("always")
        cluster = stack.enter_context(local_cluster(2))
        http = cluster.scheduler.http_server
        assert (http.address, http.port != 8787) == ("127.0.0.1", True)
        assert not [w for w in seen if "already in use" in str(w.message)]
        with Client(cluster) as client:
            profiling = client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
        assert list(profiling.values()) == [False, False]
        result = run_batch(BatchOptions(sources=tuple(dump.files), out=on_dask, chunk_size=CHUNK,
                                        progress=False, engine="dask", scheduler=cluster.scheduler_address))
    assert result.complete and result.chunks_this_run == len(list((local / "parts").glob("*.parquet")))
    assert 0 < result.peak_rss_worker_mb < 1024
    assert snapshot(on_dask) == snapshot(local)


@pytest.mark.slow
def test_dask_without_address_starts_a_local_cluster(dump: Dump, tmp_path: Path) -> None:
    local = tmp_path / "local"
    run_batch(BatchOptions(sources=(dump.update1, dump.jsonl), out=local, chunk_size=CHUNK, progress=False))
    on_dask = tmp_path / "dask"
    result = run_batch(BatchOptions(sources=(dump.update1, dump.jsonl), out=on_dask, chunk_size=CHUNK,
                                    progress=False, engine="dask", workers=2))
    assert result.complete
    assert snapshot(on_dask) == snapshot(local)


def test_unreachable_scheduler_is_a_user_error(dump: Dump, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.batch import runner

    monkeypatch.setattr(runner, "DASK_CONNECT_TIMEOUT", "1s")  # the default waits 20 s
    with pytest.raises(InputError, match="cannot connect to the Dask scheduler"):
        run_batch(BatchOptions(sources=(dump.jsonl,), out=tmp_path / "out", progress=False, engine="dask",
                               scheduler="tcp://127.0.0.1:9"))
