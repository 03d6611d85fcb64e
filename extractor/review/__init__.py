"""Review stage: the SQLite review store and the reviewer web app (no spaCy here).

* :mod:`extractor.review.store` — :class:`~extractor.review.store.Store`: abstracts, extracted
  values with provenance, reviewer decisions, dual review, conflicts, export, training API.
* :mod:`extractor.review.migrations` — numbered schema migrations with a version table.
* :mod:`extractor.review.app` — the Flask app (``create_app``); :mod:`extractor.review.server`
  serves it with waitress.
* :mod:`extractor.review.values` / :mod:`extractor.review.render` — value helpers and view models.
"""
