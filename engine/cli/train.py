"""``matloop train``: fit a grid surrogate on stored fracture labels and register it."""

from __future__ import annotations

import argparse

from engine.cli.common import ProgressLine, open_store
from engine.cli.label import add_setup_arguments, setup_options
from engine.surrogates.training import TASKS, train_grid_surrogate
from fem.fracture import FIDELITIES

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a CNN or linear surrogate on stored fracture labels",
        description="Builds a data set from the store's labels of one fracture solver set-up, "
        "holds out a seeded share of the designs, trains, reports held-out metrics and registers the model.",
    )
    parser.add_argument("--target", default="toughness", help="metric to learn (toughness, strength, stiffness, ...)")
    parser.add_argument("--model", choices=("cnn", "linear"), default="cnn")
    parser.add_argument("--task", choices=TASKS, default="regression")
    parser.add_argument("--fidelity", choices=FIDELITIES, default="full", help="fidelity of the labels to use")
    add_setup_arguments(parser)
    parser.add_argument("--test-fraction", type=float, default=0.2, help="share of designs held out")
    parser.add_argument("--epochs", type=int, default=300, help="most training epochs (early stopping)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, print held-out metrics and the registered model."""
    if args.epochs < 1:
        raise ValueError(f"--epochs must be at least 1, got {args.epochs}")
    store = open_store(args, create=False)
    line = ProgressLine(f"train {args.model}")
    report = train_grid_surrogate(
        store, fidelity=args.fidelity,
        options=setup_options(args),
        target=args.target, model=args.model, task=args.task, test_fraction=args.test_fraction,
        max_epochs=args.epochs, random_state=args.seed, device=args.device,
        callback=lambda r: line(r["epoch"] / args.epochs, f"epoch {int(r['epoch'])} val {r['val_loss']:.4g}"),
    )
    line(1.0, "done")
    m = report.metrics
    extra = f"R² {m['r2_test']:.3f}" if "r2_test" in m else f"accuracy {m['accuracy_test']:.3f}"
    print(f"model {report.model_id} ({args.model}, {args.task}, {args.target}): {m['n_train']} training / "
          f"{m['n_test']} held-out designs, Spearman {m['spearman_test']:.3f}, {extra}, "
          f"{m['epochs']} epochs in {m['fit_seconds']:.1f} s")
    print(f"saved {report.path}")
    return 0
