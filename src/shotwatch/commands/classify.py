"""``shotwatch classify`` and ``shotwatch train-classifier`` (heavy imports inside)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def _print_report(report: dict[str, Any]) -> None:
    """CV figures as two rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=200)  # piped: do not truncate the columns
    runs = [k for k, v in report.items() if isinstance(v, dict) and "clean_test" in v]
    t = Table(
        title=f"Grouped CV ({report['scheme']}); threshold {report['threshold']:.4f}: "
        f"{report['threshold_rule']}"
    )
    first = report[runs[0]]["clean_test"]
    sources = list(first["recall_by_source"])
    classes = list(first["fpr_by_class"])
    for col in ["model", "test", "ROC AUC", "precision", "recall", "FPR"]:
        t.add_column(col)
    for s in sources:
        t.add_column(f"recall {s}")
    for s in sources:
        t.add_column(f"AUC {s}")
    for r in runs:
        for cond in ("clean_test", "augmented_test"):
            m = report[r][cond]
            t.add_row(
                r,
                cond.replace("_test", ""),
                *(_fmt(m[k]) for k in ("roc_auc", "precision", "recall", "fpr")),
                *(_fmt(m["recall_by_source"].get(s)) for s in sources),
                *(_fmt(m["roc_auc_by_source"].get(s)) for s in sources),
            )
    console.print(t)
    t2 = Table(title="False-positive rate per non-gunshot class (clean test, shipped threshold)")
    t2.add_column("model")
    for c in classes:
        t2.add_column(c)
    for r in runs:
        m = report[r]["clean_test"]
        t2.add_row(r, *(_fmt(m["fpr_by_class"].get(c)) for c in classes))
    console.print(t2)


def register(app: typer.Typer) -> None:
    """Register ``classify`` and ``train-classifier``."""

    @app.command("classify")
    def classify(
        paths: list[Path] = typer.Argument(
            ..., help="audio files or directories (a directory with manifest.csv is evaluated)"
        ),
        model: Path | None = typer.Option(
            None, "--model", help="model file (gunshot_et.bin format; default: the shipped model)"
        ),
    ) -> None:
        """Print {"path", "gunshot_score", "label"} as one JSON line per audio file.

        The strongest impulse of each file is scored. With a directory holding a
        manifest.csv (path,label,...), accuracy, precision, recall, ROC AUC and a
        confusion matrix per label follow as a final {"evaluation": ...} line. Bad files
        get an error line on stderr; the exit status is then 2.
        """
        import json

        from shotwatch.classifier.run import classify_paths
        from shotwatch.core.classify import GunshotClassifier

        clf = GunshotClassifier.from_files(model) if model else GunshotClassifier.load_default()
        failed, evaluations = classify_paths(clf, paths, sys.stdout, sys.stderr)
        for ev in evaluations:
            sys.stdout.write(json.dumps({"evaluation": ev}) + "\n")
        if failed:
            typer.echo(f"{failed} file(s) could not be classified", err=True)
            raise typer.Exit(2)

    @app.command("train-classifier")
    def train_classifier(
        data: Path | None = typer.Option(
            None,
            "--data",
            help="shared data directory (default: $SHOTWATCH_SHARED_DATA or ../shared/data)",
        ),
        output: Path | None = typer.Option(
            None,
            "-o",
            "--output",
            help="model file to write (default: the package's models/gunshot_et.bin); "
            "metadata goes beside it as .json",
        ),
        cv: bool = typer.Option(
            False, "--cv", help="also cross-validate without augmentation and print both"
        ),
        compare_cnn: bool = typer.Option(
            False, "--compare-cnn", help="also cross-validate the log-mel CNN (needs torch)"
        ),
        report: Path | None = typer.Option(None, "--report", help="write the CV figures (JSON)"),
    ) -> None:
        """Train the gunshot classifier from the shared data, deterministically.

        Grouped cross-validation (with augmentation) chooses the threshold; the shipped
        model is then trained on every window. The model records the data manifest hash,
        the date and the CV figures.
        """
        import json

        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        from shotwatch.classifier import data as cdata
        from shotwatch.classifier import train as ctrain
        from shotwatch.errors import InputError

        data_dir = data or cdata.default_data_dir()
        if not (data_dir / "audio" / "manifest.csv").is_file():
            raise InputError(
                "no audio/manifest.csv (set SHOTWATCH_SHARED_DATA or --data)", str(data_dir)
            )
        if output is None:
            from importlib import resources

            output = Path(str(resources.files("shotwatch"))) / "models" / "gunshot_et.bin"
        from rich.console import Console

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        ) as progress:
            task = progress.add_task("reading data", total=cdata.count_items(data_dir))
            examples = cdata.load_all(data_dir, lambda: progress.advance(task))
            fingerprint = cdata.data_fingerprint(data_dir)
            n = len(examples)
            runs = []
            plan: list[tuple[str, Any]] = []
            if cv:
                plan.append(
                    (
                        f"CV {ctrain.RUN_NAME}",
                        lambda tick: ctrain.cross_validate(examples, False, tick=tick),
                    )
                )
            plan.append(
                (
                    f"CV {ctrain.RUN_NAME}+aug",
                    lambda tick: ctrain.cross_validate(examples, True, tick=tick),
                )
            )
            if compare_cnn:
                from shotwatch.classifier import compare as ccmp

                plan.append(("CV cnn", lambda tick: ccmp.cross_validate_cnn(examples, False, tick)))
                plan.append(
                    ("CV cnn+aug", lambda tick: ccmp.cross_validate_cnn(examples, True, tick))
                )
            for name, fn in plan:
                t = progress.add_task(name, total=(ctrain.N_SPLITS + 1) * n)
                runs.append(fn(lambda k, t=t: progress.advance(t, k)))
            rep, threshold = ctrain.cv_report(examples, runs)
            t = progress.add_task("final model", total=n)
            model = ctrain.train_final(examples, lambda k: progress.advance(t, k))
        model_path, meta_path = ctrain.save_model(
            model, output, threshold, fingerprint, examples, rep
        )
        _print_report(rep)
        if report:
            report.write_text(json.dumps(rep, indent=1) + "\n", encoding="utf-8")
        typer.echo(f"wrote {model_path} and {meta_path} ({n} windows, threshold {threshold:.4f})")
