"""Layers point one way (README "Layout"): checked statically on every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "extractor"
SHARED = {"errors", "records", "io", "heap"}
# stage → the extractor subpackages/modules its modules may import
ALLOWED: dict[str, set[str]] = {
    "fetch": SHARED | {"fetch"},
    "pool": SHARED | {"pool"},
    "review": SHARED | {"review"},
    "nlp": SHARED | {"nlp", "training"},  # training only from nlp/readers.py (spacy train readers)
    "batch": SHARED | {"batch", "fetch", "nlp"},
    "training": SHARED | {"training", "nlp", "review"},
}
NO_SPACY = ("fetch", "pool", "review")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_stage_imports_only_what_its_layer_allows(stage: str) -> None:
    bad = []
    for path in sorted((PKG / stage).rglob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "extractor" or len(parts) < 2:
                continue
            if parts[1] not in ALLOWED[stage]:
                bad.append(f"{path.relative_to(PKG)} imports {name}")
            if stage == "nlp" and parts[1] == "training" and path.name != "readers.py":
                bad.append(f"{path.relative_to(PKG)} imports {name} (only readers.py may)")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("stage", NO_SPACY)
def test_fetch_pool_review_never_import_spacy(stage: str) -> None:
    bad = [f"{p.relative_to(PKG)}" for p in (PKG / stage).rglob("*.py")
           if any(n.split(".")[0] in ("spacy", "thinc") for n in _imports(p))]
    assert not bad


def test_shared_modules_import_no_stage() -> None:
    for name in ("records.py", "errors.py", "io.py", "heap.py"):
        stages = {n.split(".")[1] for n in _imports(PKG / name) if n.startswith("extractor.")}
        assert stages <= SHARED, (name, stages)
