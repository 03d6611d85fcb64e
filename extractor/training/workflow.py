"""``extractor train``: convert → train → evaluate → assemble → package (``training/project.yml``
lists the same steps as separate commands).

1. **convert** — load the corpus (references resolved from ``../shared``; ``--with-reviews`` adds
   reviewed abstracts), keep every painbench pool abstract and the corpus's held-out ``dev``
   abstracts out of training (by id, PMID and text), run the rule pipeline over the ``train`` and
   ``tune`` entries and write ``train.spacy`` / ``tune.spacy`` with the headline gold.
2. **train** — ``spacy train training/configs/ranker.cfg`` (fixed seed) on those files; the final
   model (``model-last``: a fixed schedule; ``tune`` only monitors) is staged with a
   ``meta.json`` in ``<build>/model``.
3. **evaluate** — the ablation: rules only vs rules + the staged trained components on painbench
   dev (every field, through the benchmark's ``score.py``) and on the held-out corpus splits.
4. **assemble** — the whole pipeline (current rules + the staged trained components) saved with
   ``nlp.to_disk`` in ``<build>/pipeline``: ``spacy.load`` / ``extractor extract --model`` read it.
5. **package** — copy the staged model to ``extractor/models/<name>-<version>/`` with
   ``meta.json`` and ``BUILD.md`` (data, counts, seed, command, versions, scores, time, size).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from extractor.errors import InputError
from extractor.training.corpus import Entry, LeakageGuard, TrainingData, corpus_files, load_corpus, partition

REPO = Path(__file__).resolve().parents[2]
STEPS: tuple[str, ...] = ("convert", "train", "evaluate", "assemble", "package")
RANKER = "extractor_sample_size_ranker"


def default_shared() -> Path:
    return Path(os.environ.get("EXTRACTOR_SHARED", REPO.parent / "shared"))


@dataclass(frozen=True)
class Settings:
    """Everything a training run depends on (recorded in the model's meta.json)."""

    corpus: tuple[Path, ...] = (REPO / "corpus",)
    shared: Path | None = field(default_factory=default_shared)
    reviews: tuple[Path, ...] = ()
    min_reviews: int = 1
    build_dir: Path = REPO / "training" / "build"
    config: Path = REPO / "training" / "configs" / "ranker.cfg"
    model_dir: Path | None = None  # default: extractor/models/<name>-<version>
    version: str = ""  # default: MODEL_VERSION
    seed: int = 1
    max_epochs: int | None = None
    evaluate_painbench: bool = True
    overrides: tuple[tuple[str, Any], ...] = ()  # further spaCy config overrides ("training.x", value)

    def resolved_version(self) -> str:
        from extractor.nlp.trained import MODEL_VERSION

        return self.version or MODEL_VERSION

    def resolved_model_dir(self) -> Path:
        from extractor.nlp.trained import MODEL_NAME, MODELS_DIR

        return self.model_dir or MODELS_DIR / f"{MODEL_NAME}-{self.resolved_version()}"


Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _shown(path: Path) -> str:
    """A path as recorded in meta.json: relative to the repository when inside it."""
    path = path.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _sha1_file(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:12]


def rules_fingerprint() -> str:
    """A hash of the rule files and NLP code the trained components were fitted on."""
    nlp_dir = REPO / "extractor" / "nlp"
    h = hashlib.sha1()
    files = sorted([*nlp_dir.glob("patterns/*.jsonl"), *nlp_dir.glob("*.py"),
                    *nlp_dir.glob("components/*.py")])
    for p in files:
        if p.name != "readers.py":
            h.update(p.relative_to(nlp_dir).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


FINGERPRINT_CORPORA = ("corpus/demo/abstracts.jsonl", "corpus/written/abstracts.jsonl")


def candidates_fingerprint(nlp: Any | None = None) -> str:
    """A hash of what the trained ranker reads: the rules' sample-size candidates (offsets,
    features, rule scores) on the repository's own corpus texts.

    Unlike :func:`rules_fingerprint` it ignores refactors that leave the candidates unchanged, and
    it changes whenever a rule change alters the ranker's input — the shipped model must then be
    retrained (``tests/training/test_shipped_model.py`` checks this).
    """
    if nlp is None:
        from extractor.nlp import load_pipeline

        nlp = load_pipeline(rules_only=True)
    texts: list[str] = []
    for rel in FINGERPRINT_CORPORA:
        for line in (REPO / rel).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    h = hashlib.sha1()
    for doc in nlp.pipe(texts):
        for cand in doc._.candidates or []:
            if cand.get("kind") != "sample_size":
                continue
            feats = cand.get("features") or {}
            h.update(json.dumps([cand.get("start"), cand.get("end"), cand.get("n"), cand.get("accept"),
                                 sorted(feats.items())], sort_keys=True, default=str).encode())
        h.update(b"|")
    return h.hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# Data


def load_data(settings: Settings, log: Log = _stderr) -> tuple[TrainingData, dict[str, Any]]:
    """The partitioned corpus (+ reviews) and a JSON-safe summary of it."""
    from extractor.training.convert import summary
    from extractor.training.reviews import entries_from_store, fingerprint

    for store in settings.reviews:  # check every input before the long work
        if not store.is_file():
            raise InputError(f"{store}: no such review store")
    shared = settings.shared if settings.shared is not None and settings.shared.is_dir() else None
    entries: list[Entry] = load_corpus(list(settings.corpus), shared)
    review_info: list[dict[str, Any]] = []
    for store in settings.reviews:
        reviewed, problems = entries_from_store(store, min_reviews=settings.min_reviews)
        for p in problems:
            log(f"train: review store {store}: {p}")
        entries += reviewed
        review_info.append({"store": str(store), "abstracts": len(reviewed), "sha1": fingerprint(reviewed),
                            "problems": len(problems)})
    guard = LeakageGuard.from_shared(shared)
    if shared is None:
        log("train: warning: no ../shared directory: training on the corpus's own text entries only, "
            "painbench pool abstracts cannot be checked")
    data = partition(entries, guard)
    for entry_id, why in data.excluded:
        log(f"train: excluded {entry_id}: {why}")
    files = {_shown(p): _sha1_file(p) for p in corpus_files(list(settings.corpus))}
    info = {
        "corpus_files": files,
        "shared": os.path.relpath(shared, REPO) if shared else None,
        "painbench_pool_abstracts_excluded": len(guard),
        "reviews": review_info,
        "entries": {"train": summary(data.train), "tune": summary(data.tune), "dev": summary(data.dev),
                    "demo": summary(data.demo)},
        "excluded": [{"id": i, "reason": r} for i, r in data.excluded],
    }
    return data, info


def data_fingerprint(docs_gold: Sequence[tuple[str, str, Any]]) -> str:
    h = hashlib.sha1()
    for item in sorted(docs_gold, key=lambda x: (x[0], x[1])):
        h.update(json.dumps(item, sort_keys=True).encode("utf-8"))
    return h.hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# Steps


def step_convert(settings: Settings, log: Log = _stderr) -> dict[str, Any]:
    from extractor.nlp import build_pipeline
    from extractor.nlp.trained.sample_size_ranker import get_gold
    from extractor.training.convert import ENTRY_KEY, annotate, write_docbin

    data, info = load_data(settings, log)
    if not data.train:
        raise InputError("no training entries: the corpus has no 'train' split entries (after exclusions)")
    nlp = build_pipeline()
    build = settings.build_dir
    examples: dict[str, int] = {}
    items: list[tuple[str, str, Any]] = []
    for split in ("train", "tune"):
        docs = annotate(nlp, getattr(data, split))
        examples[split] = write_docbin(docs, build / f"{split}.spacy")
        items += [(split, d.user_data[ENTRY_KEY]["id"] + "/" + d.user_data[ENTRY_KEY]["origin"],
                   [d.text, get_gold(d)]) for d in docs]
        log(f"train: convert: {examples[split]} {split} examples → {build / f'{split}.spacy'}")
    if not examples["tune"]:
        # spaCy needs a dev set for model selection: without tune entries, select on train
        shutil.copyfile(build / "train.spacy", build / "tune.spacy")
        log("train: convert: no tune entries: selecting the model on the training examples")
    info.update({"examples": examples, "data_sha1": data_fingerprint(items),
                 "rules_sha1": rules_fingerprint(), "candidates_sha1": candidates_fingerprint(nlp)})
    (build / "data.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return info


def step_train(settings: Settings, log: Log = _stderr) -> dict[str, Any]:
    from spacy.cli.train import train as spacy_train

    build = settings.build_dir
    for name in ("train.spacy", "tune.spacy"):
        if not (build / name).is_file():
            raise InputError(f"{build / name}: missing: run the convert step first")
    overrides: dict[str, Any] = {"paths.train": str(build / "train.spacy"),
                                 "paths.dev": str(build / "tune.spacy"), "system.seed": settings.seed}
    if settings.max_epochs is not None:
        overrides["training.max_epochs"] = settings.max_epochs
    overrides.update(_schedule(settings, build / "data.json"))
    overrides.update(dict(settings.overrides))
    out = build / "ranker"
    if out.exists():
        shutil.rmtree(out)
    started = time.perf_counter()
    spacy_train(settings.config, out, use_gpu=-1, overrides=overrides)
    seconds = round(time.perf_counter() - started, 1)
    final = out / "model-last"  # see training/configs/ranker.cfg: a fixed schedule, no checkpoint picking
    meta = json.loads((final / "meta.json").read_text(encoding="utf-8"))
    stage = build / "model"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    shutil.copytree(final / RANKER, stage / RANKER)
    from extractor.nlp.trained import MODEL_NAME

    result = {"seconds": seconds, "tune_scores": meta.get("performance", {}),
              "config": _shown(settings.config), "config_sha1": _sha1_file(settings.config),
              "seed": settings.seed, "max_epochs": settings.max_epochs}
    staged = {"name": MODEL_NAME, "version": settings.resolved_version(), "components": [RANKER],
              "training": result}
    (stage / "meta.json").write_text(json.dumps(staged, indent=1) + "\n", encoding="utf-8")
    log(f"train: trained {RANKER} in {seconds} s; tune {meta.get('performance', {})}")
    return result


def _schedule(settings: Settings, data_json: Path) -> dict[str, Any]:
    """Stretch a linearly decaying learning rate over all epochs of the data actually converted."""
    from spacy.util import load_config

    config = load_config(settings.config)
    rate = config["training"]["optimizer"].get("learn_rate")
    if not isinstance(rate, dict) or rate.get("@schedules") != "warmup_linear.v1":
        return {}
    examples = int((_read_json(data_json).get("examples") or {}).get("train") or 0)
    batch = int(config["training"]["batcher"].get("size") or 1)
    epochs = settings.max_epochs or int(config["training"]["max_epochs"])
    steps = max(1, -(-examples // batch)) * max(1, epochs)
    return {"training.optimizer.learn_rate.total_steps": steps}


def trained_pipeline(model_dir: Path) -> Any:
    from extractor.nlp import build_pipeline
    from extractor.nlp.trained import add_trained_components

    return add_trained_components(build_pipeline(), model_dir)


def step_evaluate(settings: Settings, log: Log = _stderr) -> dict[str, Any]:
    from extractor.nlp import build_pipeline
    from extractor.training.evaluate import ablation, markdown_table, regressions

    stage = settings.build_dir / "model"
    if not (stage / "meta.json").is_file():
        raise InputError(f"{stage}: no staged model: run the train step first")
    data, _ = load_data(settings, lambda _msg: None)
    shared = settings.shared if settings.evaluate_painbench else None
    result = ablation({"rules": build_pipeline(), "trained": trained_pipeline(stage)},
                      shared if shared is not None and shared.is_dir() else None,
                      data.dev, data.demo, pred_dir=settings.build_dir)
    result["regressions"] = regressions(result)
    table = markdown_table(result)
    (settings.build_dir / "ablation.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (settings.build_dir / "ablation.md").write_text(table + "\n", encoding="utf-8")
    log(table)
    if result["regressions"]:
        log(f"train: evaluate: WORSE than rules on: {', '.join(result['regressions'])}")
    return result


def step_assemble(settings: Settings, log: Log = _stderr) -> Path:
    stage = settings.build_dir / "model"
    if not (stage / "meta.json").is_file():
        raise InputError(f"{stage}: no staged model: run the train step first")
    out = settings.build_dir / "pipeline"
    if out.exists():
        shutil.rmtree(out)
    trained_pipeline(stage).to_disk(out)
    log(f"train: assembled the rules + trained pipeline in {out}")
    return out


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    obj = json.loads(path.read_text(encoding="utf-8"))
    return obj if isinstance(obj, dict) else {}


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def step_package(settings: Settings, log: Log = _stderr, *, command: str = "", seconds: float | None = None
                 ) -> Path:
    import numpy
    import spacy
    import thinc

    build = settings.build_dir
    stage = build / "model"
    if not (stage / "meta.json").is_file():
        raise InputError(f"{stage}: no staged model: run the train step first")
    staged = json.loads((stage / "meta.json").read_text(encoding="utf-8"))
    data = _read_json(build / "data.json")
    scores = _read_json(build / "ablation.json")
    target = settings.resolved_model_dir()
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(stage / RANKER, target / RANKER)
    meta = {
        **staged,
        "description": "Trained components of the extractor pipeline (loaded on top of the current rules).",
        "built_with": {"python": platform.python_version(), "spacy": spacy.__version__,
                       "thinc": thinc.__version__, "numpy": numpy.__version__},
        "command": command,
        "total_seconds": seconds,
        "data": {k: v for k, v in data.items() if k != "excluded"},
        "excluded_from_training": len(data.get("excluded") or ()),
        "scores": {k: v for k, v in scores.items() if k != "demo"},
        "size_bytes": _dir_size(target),
    }
    (target / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    table = (build / "ablation.md").read_text(encoding="utf-8") if (build / "ablation.md").is_file() else ""
    (target / "BUILD.md").write_text(build_md(meta, table), encoding="utf-8")
    log(f"train: packaged {target} ({_dir_size(target)} bytes)")
    return target


def build_md(meta: dict[str, Any], table: str) -> str:
    data = meta.get("data") or {}
    training = meta.get("training") or {}
    lines = [
        f"# {meta['name']} {meta['version']}", "",
        "Trained components of the extractor pipeline, loaded by `extractor.nlp.load_pipeline()` on top "
        "of the current rule components (`load_pipeline(rules_only=True)` / `extractor extract "
        "--rules-only` leave them out).", "",
        "## How it was built", "",
        f"- command: `{meta.get('command') or 'extractor train'}`",
        f"- config: `{training.get('config')}` (sha1 {training.get('config_sha1')}), seed "
        f"{training.get('seed')}, max_epochs {training.get('max_epochs') or 'from config'}",
        f"- components: {', '.join(meta.get('components') or [])}",
        "- built with: " + ", ".join(f"{k} {v}" for k, v in (meta.get("built_with") or {}).items()),
        f"- rules fingerprint (patterns + NLP code it was fitted on): {data.get('rules_sha1')}",
        f"- candidates fingerprint (the ranker's input on corpus/demo + corpus/written): "
        f"{data.get('candidates_sha1')}",
        f"- training data fingerprint: {data.get('data_sha1')} (same data → same weights → same scores)",
        f"- training time: {training.get('seconds')} s (spacy train); "
        f"whole run {meta.get('total_seconds')} s",
        f"- size of the weights and feature lists: {meta.get('size_bytes')} bytes", "",
        "## Data", "",
        "- corpus files: " + ", ".join(f"`{k}` ({v})" for k, v in (data.get("corpus_files") or {}).items()),
        f"- third-party data resolved from: `{data.get('shared')}`",
        f"- painbench pool abstracts kept out of training: {data.get('painbench_pool_abstracts_excluded')} "
        f"(by id, PMID and text); entries excluded: {meta.get('excluded_from_training')}",
        f"- reviews: {data.get('reviews') or 'none'}",
        f"- training examples (with headline gold): {data.get('examples')}",
        "- entries per origin/split:", "",
        "```", json.dumps(data.get("entries") or {}, indent=1), "```", "",
        "## Scores (rules only vs rules + trained)", "", table.strip() or "(not evaluated)", "",
    ]
    return "\n".join(lines)


def run(settings: Settings, steps: Sequence[str] = STEPS, log: Log = _stderr,
        command: str = "") -> dict[str, Any]:
    """Run the given steps in order; returns what each produced."""
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise InputError(f"unknown step(s) {', '.join(unknown)}; steps: {', '.join(STEPS)}")
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    (settings.build_dir / "settings.json").write_text(
        json.dumps(asdict(settings), default=str, indent=1) + "\n", encoding="utf-8")
    started = time.perf_counter()
    out: dict[str, Any] = {}
    for step in STEPS:
        if step not in steps:
            continue
        if step == "convert":
            out[step] = step_convert(settings, log)
        elif step == "train":
            out[step] = step_train(settings, log)
        elif step == "evaluate":
            out[step] = step_evaluate(settings, log)
        elif step == "assemble":
            out[step] = str(step_assemble(settings, log))
        else:
            out[step] = step_package(settings, log, command=command,
                                     seconds=round(time.perf_counter() - started, 1))
    return out
