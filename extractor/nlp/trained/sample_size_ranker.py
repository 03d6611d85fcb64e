"""``extractor_sample_size_ranker``: a trained choice of the headline sample size.

A :class:`~spacy.pipeline.TrainablePipe` placed between the rule components and
``extractor_resolve``. The rules propose every count of people as a ``sample_size`` candidate
with a prior score (their weighted cues); this component scores each candidate *and* a
"no headline" option (the abstract states no total: arms only, a gender split, counts of lesions)
and takes a softmax over the options of the document (a conditional-logit ranker).

The utility of an option is the rules' prior plus a learned linear correction: candidate
``prior + w·x``, "no headline" ``null_offset + w·z``, where ``null_offset`` is the rules' own
acceptance threshold. With all weights zero the ranker chooses exactly as the rules do; training
moves it only where data disagree. The weights of the prior-derived features are kept monotone
(:data:`MONOTONE`), so the learned part may sharpen the rules' order of two candidates but never
invert it on the prior alone.

The chosen candidate is the only accepted one (``accept=True``, ``confidence`` = its probability,
``source="model"``); when "no headline" wins no candidate is accepted and ``extractor_resolve``
reports ``null``.

Training (``spacy train training/configs/ranker.cfg``, wrapped by ``extractor train``) minimises
the negative log-probability of the gold options: the candidates whose value is a gold sample size
(a set for corpora that mark every sample-size mention, such as EBM-NLP) or "no headline" when the
document is annotated completely and has none. The gold sits in the reference doc's
``user_data[GOLD_KEY]`` (see :func:`set_gold`).

Serialisation (``to_disk``): ``cfg`` (JSON: feature names, standardisation, model id) and the
weights as ``W.npy`` / ``b.npy`` (``numpy.save`` without pickle). Loading needs no network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import srsly
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import Linear, Model, Optimizer, zero_init
from thinc.types import Floats1d, Floats2d

from extractor.nlp import extensions  # noqa: F401  (registers the Doc extensions)
from extractor.nlp.context import doc_lower, doc_text
from extractor.nlp.trained.features import (
    NULL_PREFIX,
    Features,
    rule_accepted,
    rule_prior,
    sample_size_features,
)

GOLD_KEY = "extractor.sample_size_gold"
# sign constraints on weights (+1: >= 0, -1: <= 0) of features derived from the rule prior
MONOTONE: dict[str, int] = {"prior": 1, "prior_margin": 1, "prior_rank0": 1, "prior_rank": -1}
# extractor_sample_size accepts a candidate as the headline when its score exceeds this
RULE_THRESHOLD = -1.5
Scorer = Callable[..., dict[str, Any]]


def set_gold(doc: Doc, values: Iterable[int], *, complete: bool, weight: float = 1.0,
             source: str = "") -> None:
    """Store the headline gold of a reference doc: any of ``values`` is right; with ``complete``
    and no values, "no headline" is right. Without ``complete`` an empty set teaches nothing."""
    doc.user_data[GOLD_KEY] = {"values": sorted({int(v) for v in values}), "complete": bool(complete),
                               "weight": float(weight), "source": source}


def get_gold(doc: Doc) -> dict[str, Any] | None:
    gold = doc.user_data.get(GOLD_KEY)
    return gold if isinstance(gold, dict) else None


def doc_candidates(doc: Doc) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``sample_size`` and ``arm_size`` candidate dicts of a doc, in text order."""
    sample: list[dict[str, Any]] = []
    arms: list[dict[str, Any]] = []
    for c in doc._.candidates or ():
        kind = c.get("kind")
        if kind == "sample_size":
            sample.append(c)
        elif kind == "arm_size":
            arms.append(c)
    return sample, arms


def gold_options(gold: Mapping[str, Any] | None, candidates: Sequence[Mapping[str, Any]]) -> list[int] | None:
    """Indices of the right options (``len(candidates)`` = "no headline"), or None if unknown.

    Corpora such as PICO and EBM-NLP mark several counts of one abstract (screened, randomized,
    analysed): the set holds the headline but not every member is one. Such a set is narrowed to
    the value the rules rank highest among its members (the guideline's order — randomized over
    enrolled over analysed, never screened or planned — is what the rule prior encodes), so the
    ranker learns the painbench headline, not "any count".
    """
    if not gold:
        return None
    wanted = {int(v) for v in gold.get("values") or ()}
    if wanted:
        members = [i for i, c in enumerate(candidates) if int(c["n"]) in wanted]
        if not members:
            return None  # the right count is not among the candidates: nothing to learn
        if len({int(candidates[i]["n"]) for i in members}) > 1:
            top = max(members, key=lambda i: (_prior(candidates[i]), -int(candidates[i]["start"])))
            members = [i for i in members if int(candidates[i]["n"]) == int(candidates[top]["n"])]
        return members
    return [len(candidates)] if gold.get("complete") else None


def _prior(candidate: Mapping[str, Any]) -> float:
    score = (candidate.get("features") or {}).get("score")
    return float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else 0.0


@registry.architectures("extractor.LinearRanker.v1")
def build_linear_ranker(nI: int | None = None) -> Model[Floats2d, Floats2d]:
    """One utility per option: a linear layer over the standardised features (zero-initialised)."""
    return Linear(nO=1, nI=nI, init_W=zero_init, init_b=zero_init)


class SampleSizeRanker(TrainablePipe):
    """Chooses the headline sample size among the rule candidates (see the module doc)."""

    def __init__(self, vocab: Vocab, model: Model[Floats2d, Floats2d], name: str, *,
                 min_count: int, null_offset: float, scorer: Scorer | None) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg: dict[str, Any] = {"min_count": int(min_count), "null_offset": float(null_offset),
                                    "features": [], "mean": [], "scale": [], "model_id": ""}
        self._index: dict[str, int] = {}
        self._mean = np.zeros(0, dtype="float32")
        self._scale = np.ones(0, dtype="float32")

    # -- features -------------------------------------------------------------------------------

    def _set_features(self, names: list[str], mean: list[float], scale: list[float]) -> None:
        self.cfg.update({"features": list(names), "mean": [float(x) for x in mean],
                         "scale": [float(x) for x in scale]})
        self._sync()

    def _sync(self) -> None:
        names = list(self.cfg.get("features") or [])
        self._index = {n: i for i, n in enumerate(names)}
        self._mean = np.asarray(self.cfg.get("mean") or [0.0] * len(names), dtype="float32")
        self._scale = np.asarray(self.cfg.get("scale") or [1.0] * len(names), dtype="float32")
        self._null_mask = np.asarray([n.startswith(NULL_PREFIX) for n in names], dtype=bool)

    def _doc_rows(self, doc: Doc) -> tuple[list[Features], list[dict[str, Any]]]:
        sample, arms = doc_candidates(doc)
        # the text (and its lower case) cached by the rule components: ``Doc.text`` joins every
        # token in Python, which cost as much as the rest of this component
        feats, null = sample_size_features(doc_text(doc), sample, arms, lower=doc_lower(doc))
        return [*feats, null], sample

    def _matrix(self, rows: list[Features], null_rows: np.ndarray) -> np.ndarray:
        """Standardised feature rows (``null_rows``: which rows are "no headline" options);
        candidate rows carry no ``null:*`` features and vice versa."""
        X = np.zeros((len(rows), len(self._index)), dtype="float32")
        index = self._index
        for r, feats in enumerate(rows):
            for key, val in feats.items():
                j = index.get(key)
                if j is not None:
                    X[r, j] = val
        X = (X - self._mean) / self._scale
        # the "no headline" features of candidate rows and the others of "no headline" rows are 0
        X[null_rows[:, None] != self._null_mask[None, :]] = 0.0
        return X

    def _batch(self, docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
        """Feature rows of every option of every doc, their rule offsets, and each doc's rows.

        One matrix for the whole batch (each doc's rows are its candidates, then its "no
        headline" option): the same numbers as one matrix per doc, without the per-doc array
        overhead."""
        rows_all: list[Features] = []
        null_rows: list[bool] = []
        offsets: list[float] = []
        bounds: list[tuple[int, int]] = []
        at = 0
        null_offset = float(self.cfg.get("null_offset", RULE_THRESHOLD))
        for doc in docs:
            rows, sample = self._doc_rows(doc)
            rows_all += rows
            null_rows += [False] * (len(rows) - 1) + [True]
            offsets += [rule_prior(c) for c in sample] + [null_offset]
            bounds.append((at, at + len(rows)))
            at += len(rows)
        X = self._matrix(rows_all, np.asarray(null_rows, dtype=bool))
        return X, np.asarray(offsets, dtype="float64"), bounds

    # -- prediction -----------------------------------------------------------------------------

    def predict(self, docs: Iterable[Doc]) -> list[np.ndarray]:
        """Per doc, the probabilities of its candidates and (last) of "no headline"."""
        docs = list(docs)
        if not self._index:
            raise ValueError(f"{self.name}: the model has no features: train it or load a trained one")
        X, offsets, bounds = self._batch(docs)
        learned = _numpy(self.model.predict(self.model.ops.asarray2f(cast(Floats2d, X))))[:, 0]
        utilities = learned + offsets
        return [_softmax(utilities[a:b]) for a, b in bounds]

    def set_annotations(self, docs: Iterable[Doc], probabilities: list[np.ndarray]) -> None:
        model_id = str(self.cfg.get("model_id") or self.name)
        for doc, probs in zip(docs, probabilities, strict=True):
            sample, _ = doc_candidates(doc)
            choice = int(np.argmax(probs))
            for i, cand in enumerate(sample):
                p = float(probs[i])
                cand["features"] = {**(cand.get("features") or {}), "ranker_p": round(p, 4),
                                    "rule_accept": rule_accepted(cand)}
                cand["confidence"] = round(min(max(p, 0.0), 1.0), 4)
                cand["accept"] = i == choice
                if i == choice:
                    cand.update({"source": "model", "producer": self.name, "producer_id": model_id})

    # -- training -------------------------------------------------------------------------------

    def update(self, examples: Iterable[Example], *, drop: float = 0.0, sgd: Optimizer | None = None,
               losses: dict[str, float] | None = None) -> dict[str, float]:
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        if not examples:
            return losses
        X, offsets, bounds = self._batch([eg.predicted for eg in examples])
        learned, backprop = self.model.begin_update(self.model.ops.asarray2f(cast(Floats2d, X)))
        utilities = _numpy(learned) + offsets[:, None]
        loss, d_utilities = self.get_loss(examples, (utilities, bounds))
        backprop(self.model.ops.asarray2f(cast(Floats2d, d_utilities)))
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def get_loss(self, examples: Iterable[Example],
                 scores: tuple[np.ndarray, list[tuple[int, int]]]) -> tuple[float, np.ndarray]:
        """Weighted negative log-probability of the gold options, and its gradient."""
        utilities, bounds = scores
        grad = np.zeros_like(utilities, dtype="float32")
        total = 0.0
        examples = list(examples)
        for eg, (a, b) in zip(examples, bounds, strict=True):
            sample, _ = doc_candidates(eg.predicted)
            gold = get_gold(eg.reference)
            pos = gold_options(gold, sample)
            if pos is None or gold is None:
                continue
            probs = _softmax(utilities[a:b, 0])
            p_gold = float(probs[pos].sum())
            weight = float(gold.get("weight", 1.0))
            total -= weight * float(np.log(max(p_gold, 1e-12)))
            target = np.zeros_like(probs)
            target[pos] = probs[pos] / max(p_gold, 1e-12)
            grad[a:b, 0] = weight * (probs - target) / len(examples)
        return total, grad

    def finish_update(self, sgd: Optimizer) -> None:
        """The optimizer step, then the sign constraints of :data:`MONOTONE` (a projection)."""
        self.model.finish_update(sgd)
        self._project()

    def _project(self) -> None:
        W = _numpy(self.model.get_param("W"))
        for name, sign in MONOTONE.items():
            j = self._index.get(name)
            if j is not None and W[0, j] * sign < 0:
                W[0, j] = 0.0
        self.model.set_param("W", cast(Floats2d, W))

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *,
                   nlp: Language | None = None) -> None:
        """Build the feature list (features seen ``min_count`` times) and the standardisation."""
        counts: dict[str, int] = {}
        rows_all: list[Features] = []
        for eg in get_examples():
            rows, _ = self._doc_rows(eg.predicted)
            for feats in rows:
                rows_all.append(feats)
                for key, val in feats.items():
                    if val != 0.0:
                        counts[key] = counts.get(key, 0) + 1
        min_count = int(self.cfg.get("min_count", 1))
        names = sorted(k for k, c in counts.items() if c >= min_count)
        if not names:
            raise ValueError(f"{self.name}: no training examples with sample-size candidates")
        index = {n: i for i, n in enumerate(names)}
        X = np.zeros((len(rows_all), len(names)), dtype="float64")
        for r, feats in enumerate(rows_all):
            for key, val in feats.items():
                if key in index:
                    X[r, index[key]] = val
        is_null = np.asarray([n.startswith(NULL_PREFIX) for n in names])
        null_rows = np.asarray([any(k.startswith(NULL_PREFIX) for k in f) for f in rows_all])
        mean = np.zeros(len(names))
        scale = np.ones(len(names))
        for j in range(len(names)):
            col = X[null_rows, j] if is_null[j] else X[~null_rows, j]
            if col.size and not np.isin(col, (0.0, 1.0)).all():
                # continuous features are standardised; indicators stay 0/1 (standardising a rare
                # indicator would blow it up to tens and let it dominate the utility)
                mean[j] = col.mean()
                scale[j] = col.std() or 1.0
        self._set_features(names, mean.tolist(), scale.tolist())
        self.model.set_dim("nI", len(names))
        self.model.initialize()

    # -- serialisation --------------------------------------------------------------------------

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg", self.cfg)
        np.save(path / "W.npy", _numpy(self.model.get_param("W")), allow_pickle=False)
        np.save(path / "b.npy", _numpy(self.model.get_param("b")), allow_pickle=False)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> SampleSizeRanker:
        path = Path(path)
        missing = [name for name in ("cfg", "W.npy", "b.npy") if not (path / name).exists()]
        if missing:
            raise ValueError(f"{path}: not a trained {self.name} (missing {', '.join(missing)})")
        self.cfg.update(srsly.read_json(path / "cfg"))
        self._sync()
        W = np.load(path / "W.npy", allow_pickle=False)
        b = np.load(path / "b.npy", allow_pickle=False)
        if W.shape != (1, len(self._index)) or b.shape != (1,):
            raise ValueError(f"{path}: weights of shape {W.shape} do not fit {len(self._index)} features")
        self._set_params(W, b)
        return self

    def _set_params(self, W: np.ndarray, b: np.ndarray) -> None:
        if self.model.has_dim("nI") and self.model.get_dim("nI") not in (None, W.shape[1]):
            raise ValueError(f"{self.name}: the model expects {self.model.get_dim('nI')} features, "
                             f"the weights have {W.shape[1]}")
        if not self.model.has_dim("nI") or self.model.get_dim("nI") is None:
            self.model.set_dim("nI", int(W.shape[1]))
        self.model.initialize()
        self.model.set_param("W", self.model.ops.asarray2f(cast(Floats2d, W.astype("float32"))))
        self.model.set_param("b", self.model.ops.asarray1f(cast(Floats1d, b.astype("float32"))))

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        W = _numpy(self.model.get_param("W"))
        b = _numpy(self.model.get_param("b"))
        data: bytes = srsly.msgpack_dumps({"cfg": self.cfg, "W": W.tolist(), "b": b.tolist()})
        return data

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = ()) -> SampleSizeRanker:
        data = srsly.msgpack_loads(bytes_data)
        self.cfg.update(data["cfg"])
        self._sync()
        self._set_params(np.asarray(data["W"], dtype="float32"), np.asarray(data["b"], dtype="float32"))
        return self

    # -- scoring --------------------------------------------------------------------------------

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        return {} if self.scorer is None else self.scorer(examples, **kwargs)


def _numpy(array: Any) -> np.ndarray:
    """A thinc array as numpy (the ranker runs on thinc's NumpyOps, so this copies nothing)."""
    return np.asarray(array)


def _softmax(u: np.ndarray) -> np.ndarray:
    u = np.asarray(u, dtype="float64")
    if u.size == 0:
        return u
    e = np.exp(u - u.max())
    probabilities: np.ndarray = e / e.sum()
    return probabilities


def chosen_sample_size(doc: Doc) -> int | None:
    """The headline a doc ends up with: the accepted candidate with the highest confidence."""
    sample, _ = doc_candidates(doc)
    accepted = [c for c in sample if c.get("accept")]
    if not accepted:
        return None
    best = max(accepted, key=lambda c: (float(c.get("confidence") or 0.0), -int(c["start"])))
    return int(best["n"])


@registry.scorers("extractor.sample_size_choice_scorer.v1")
def make_choice_scorer() -> Scorer:
    """Accuracy of the headline choice against ``GOLD_KEY`` gold (a set of right values; no value
    and complete = "no headline" is right). Documents without usable gold are not counted."""

    def score(examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        right = total = 0
        for eg in examples:
            gold = get_gold(eg.reference)
            if not gold or (not gold.get("values") and not gold.get("complete")):
                continue
            total += 1
            pred = chosen_sample_size(eg.predicted)
            values = set(gold.get("values") or ())
            right += (pred in values) if values else pred is None
        return {"sample_size_choice_acc": right / total if total else 0.0}

    return score


@Language.factory(
    "extractor_sample_size_ranker",
    assigns=["doc._.candidates"],
    requires=["doc._.candidates"],
    default_config={
        "model": {"@architectures": "extractor.LinearRanker.v1"},
        "min_count": 3,
        "null_offset": RULE_THRESHOLD,
        "scorer": {"@scorers": "extractor.sample_size_choice_scorer.v1"},
    },
    default_score_weights={"sample_size_choice_acc": 1.0},
)
def make_sample_size_ranker(nlp: Language, name: str, model: Model[Floats2d, Floats2d], min_count: int,
                            null_offset: float, scorer: Scorer | None) -> SampleSizeRanker:
    """Trained headline choice over the ``sample_size`` candidates (place before ``extractor_resolve``)."""
    return SampleSizeRanker(nlp.vocab, model, name, min_count=min_count, null_offset=null_offset,
                            scorer=scorer)

