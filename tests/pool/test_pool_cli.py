"""`extractor pool` end to end on JSONL, CSV and Parquet records; errors are one line, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_pool_extractions import prepost_records

from extractor.cli import main
from extractor.io import RecordWriter


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_pool_command_writes_table_json_and_plots(
    tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / f"records{suffix}"
    with RecordWriter(src) as w:
        for r in prepost_records():
            w.write(r)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(
        [
            "pool",
            str(src),
            "--measure",
            "SMCC",
            "--timepoint",
            "4w",
            "--method",
            "REML",
            "--test",
            "knha",
            "--r",
            "0.5",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stderr
    for name in (
        "pool_table.csv",
        "pool_skipped.csv",
        "pool_result.json",
        "forest.png",
        "forest.svg",
        "funnel.png",
        "funnel.svg",
    ):
        assert (out / name).stat().st_size > 0, name
    result = json.loads((out / "pool_result.json").read_text())
    assert result["k"] == 6 and result["result"]["test"] == "knha" and result["r"] == 0.5
    assert "6 studies pooled, 6 skipped" in stdout
    assert "S4: no baseline" in stdout and "Random-effects model" in stdout
    assert "sensitivity to r" in stdout


def test_subgroups_and_metafor_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "records.jsonl"
    with RecordWriter(src) as w:
        for r in prepost_records():
            w.write(r)
    code, stdout, _ = run_cli(
        [
            "pool",
            str(src),
            "-t",
            "4w",
            "--subgroup",
            "scale",
            "--metafor-defaults",
            "--no-plots",
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    assert code == 0 and "subgroup differences (scale)" in stdout
    assert not (tmp_path / "o" / "forest.png").exists()
    assert json.loads((tmp_path / "o" / "pool_result.json").read_text())["result"]["control"] == "metafor"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--timepoint", "4w", "--r", "1.2"], 1, "strictly between -1 and 1"),
        (["--timepoint", "4w", "--measure", "XYZ"], 1, "cannot be pooled"),
        (["--timepoint", "24h"], 1, "need at least 2"),
        (["--timepoint", "4w", "--method", "FOO"], 1, "unknown method"),
    ],
)
def test_user_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    src = tmp_path / "records.jsonl"
    with RecordWriter(src) as w:
        for r in prepost_records():
            w.write(r)
    got, _, stderr = run_cli(["pool", str(src), "--out", str(tmp_path / "o"), *args], capsys)
    assert got == code and message in stderr and "Traceback" not in stderr
    assert stderr.strip().count("\n") == 0


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = run_cli(["pool", str(tmp_path / "nope.jsonl")], capsys)
    assert code == 2 and "no such file" in stderr


def test_pooling_never_imports_spacy() -> None:
    code = (
        "import sys\n"
        "import extractor.pool, extractor.commands.pool\n"
        "from extractor.pool import rma, escalc, pool_extractions\n"
        "rma([0.1, 0.4, 0.3], [0.02, 0.03, 0.05])\n"
        "pool_extractions([], measure='PR')\n"
        "bad = sorted(m for m in sys.modules if m == 'spacy' or m.startswith('spacy.'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
