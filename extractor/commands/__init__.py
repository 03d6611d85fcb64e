"""CLI commands, one module per stage; each exposes ``register(app)``.

Modules import their stage lazily inside command bodies so ``extractor --help`` stays fast and
so that, e.g., ``extractor pool`` never imports spaCy.
"""
