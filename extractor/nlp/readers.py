"""Corpus readers registered for ``spacy train`` / ``spacy evaluate`` (entry points in pyproject).

* ``extractor.candidate_docs.v1`` — ``.spacy`` files written by the convert step of
  ``extractor train``: docs the rule components already annotated (``doc._.candidates``), with the
  headline gold in ``user_data`` (see :mod:`extractor.nlp.trained.sample_size_ranker`). Training
  the ranker on them does not re-run the rules every epoch.
* ``extractor.corpus.v1`` — the project corpus (``corpus/``, references resolved from
  ``../shared``): raw docs with the gold in the reference (``doc._.extractions`` from the entry's
  record and the headline gold), for evaluating whole pipelines with ``spacy evaluate``.

Readers read files; the pipeline components never do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import DocBin
from spacy.training import Example
from spacy.util import registry

from extractor.nlp import extensions  # noqa: F401  (registers the Doc extensions)


@registry.readers("extractor.candidate_docs.v1")
def candidate_docs(path: Path) -> Callable[[Language], Iterator[Example]]:
    """Examples from a ``.spacy`` file of rule-annotated docs. The predicted doc (with its
    candidates) is also the reference (it carries the gold in ``user_data``): training never
    annotates it, and evaluation annotates a copy. The docs are read once per reader."""
    path = Path(path)
    loaded: list[Example] = []

    def read(nlp: Language) -> Iterator[Example]:
        if not loaded:
            if not path.is_file():
                raise ValueError(f"{path}: no such .spacy file (run the convert step first)")
            loaded.extend(Example(doc, doc) for doc in
                          DocBin(store_user_data=True).from_disk(path).get_docs(nlp.vocab))
        yield from loaded

    return read


@registry.readers("extractor.corpus.v1")
def corpus_reader(path: Path, shared: Path | None = None, split: str = "dev"
                  ) -> Callable[[Language], Iterator[Example]]:
    """Examples of one split of the corpus under ``path`` (evaluation abstracts left out)."""
    from extractor.training.convert import reference_doc
    from extractor.training.corpus import LeakageGuard, load_corpus, partition

    def read(nlp: Language) -> Iterator[Example]:
        shared_dir = Path(shared) if shared else None
        data = partition(load_corpus([Path(path)], shared_dir), LeakageGuard.from_shared(shared_dir))
        for entry in getattr(data, split):
            yield Example(nlp.make_doc(entry.text), reference_doc(nlp, entry))

    return read
