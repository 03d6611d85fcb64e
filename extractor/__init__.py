"""extractor: clinical pain abstracts → checked, pooled meta-analysis."""

__version__ = "0.1.0"
