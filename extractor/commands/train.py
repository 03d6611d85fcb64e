"""`extractor train`: convert → train → evaluate → package the trained components (see
``extractor/training/workflow.py`` and ``training/project.yml``)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("train")
    def _cmd(
        with_reviews: Annotated[list[Path] | None, typer.Option(
            "--with-reviews", metavar="STORE",
            help="Add the reviewed abstracts of this review store (repeatable).")] = None,
        min_reviews: Annotated[int, typer.Option(
            "--min-reviews", min=1, help="Reviewers who must have finished a reviewed abstract.")] = 1,
        corpus: Annotated[list[Path] | None, typer.Option(
            "--corpus", help="Corpus files or directories (default: corpus/).")] = None,
        shared: Annotated[Path | None, typer.Option(
            "--shared", help="The ../shared directory that corpus references point into.")] = None,
        steps: Annotated[str, typer.Option(
            "--steps", help="Comma-separated steps to run: convert,train,evaluate,assemble,package.")] =
            "convert,train,evaluate,assemble,package",
        build_dir: Annotated[Path | None, typer.Option(
            "--build-dir", help="Where intermediate files go (default: training/build/).")] = None,
        model_dir: Annotated[Path | None, typer.Option(
            "--model-dir",
            help="Where to package the model (default: extractor/models/<name>-<version>/).")] = None,
        config: Annotated[Path | None, typer.Option(
            "--config", help="spaCy training config (default: training/configs/ranker.cfg).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed (spaCy system.seed).")] = 1,
        max_epochs: Annotated[int | None, typer.Option(
            "--max-epochs", min=1, help="Override training.max_epochs.")] = None,
        version: Annotated[str, typer.Option(
            "--model-version", help="Model version (default: the current one).")] = "",
        no_painbench: Annotated[bool, typer.Option(
            "--no-painbench", help="Skip the painbench dev part of the evaluation.")] = False,
    ) -> None:
        """Train the trained components from corpus/ (+ reviews), evaluate them against the rules
        alone, and package them next to a record of how they were built."""
        from extractor.training.workflow import Settings, default_shared, run

        defaults = Settings()
        settings = Settings(
            corpus=tuple(corpus) if corpus else defaults.corpus,
            shared=shared if shared is not None else default_shared(),
            reviews=tuple(with_reviews or ()),
            min_reviews=min_reviews,
            build_dir=build_dir or defaults.build_dir,
            config=config or defaults.config,
            model_dir=model_dir,
            version=version,
            seed=seed,
            max_epochs=max_epochs,
            evaluate_painbench=not no_painbench,
        )
        wanted = [s.strip() for s in steps.split(",") if s.strip()]
        command = "extractor " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        run(settings, wanted, command=command)
