"""Evaluation reports: metrics.json, report.md, confusion matrices and training curves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from workout_classifier.learn.evaluate import CVResult

BASELINE_NOTE = (
    "The reference design reports 94.28% +- 2.18% with plain 5-fold cross-validation, but its "
    "features use the true class and mirrored twins cross folds; that figure is not comparable."
)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(cm: np.ndarray, classes: list[str], path: Path, title: str) -> None:
    plt = _plt()
    cm = np.asarray(cm)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    k = len(classes)
    fig, axes = plt.subplots(1, 2, figsize=(2 * max(5, 0.6 * k + 3), max(4.5, 0.55 * k + 2)))
    for ax, mat, sub, fmt in (
        (axes[0], cm, "counts", "d"),
        (axes[1], norm, "row-normalized (recall)", ".2f"),
    ):
        im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(k), classes, rotation=45, ha="right")
        # Class names only on the left plot: on the right they would run into the first one.
        ax.set_yticks(range(k), classes if ax is axes[0] else [""] * k)
        ax.set_xlabel("predicted")
        if ax is axes[0]:
            ax.set_ylabel("true")
        ax.set_title(sub)
        for i in range(k):
            for j in range(k):
                val = format(mat[i, j], fmt)
                ax.text(j, i, val, ha="center", va="center", fontsize=8,
                        color="white" if norm[i, j] > 0.5 else "black")  # fmt: skip
    fig.colorbar(im, ax=axes, shrink=0.7)
    fig.suptitle(title)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_curves(histories: list[dict], path: Path, title: str) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = plt.cm.tab10.colors
    # Models fitted in one step (trees) have one point per fold: markers keep it visible.
    one_step = all(len(h["train_loss"]) <= 1 for h in histories)
    mark = "o" if one_step else None
    for k, h in enumerate(histories):
        c = colors[k % 10]
        ep = np.arange(1, len(h["train_loss"]) + 1) + (0.04 * k if one_step else 0)
        axes[0].plot(ep, h["train_loss"], color=c, marker=mark, label=f"fold {k + 1} train")
        axes[0].plot(
            ep, h["val_loss"], color=c, ls="--", marker=mark, mfc="none", label=f"fold {k + 1} val"
        )
        axes[1].plot(ep, h["train_acc"], color=c, marker=mark, label=f"fold {k + 1} train")
        axes[1].plot(
            ep, h["val_acc"], color=c, ls="--", marker=mark, mfc="none", label=f"fold {k + 1} val"
        )
    axes[0].set_title("loss")
    axes[1].set_title("accuracy (val: per clip, inner grouped hold-out)")
    for ax in axes:
        ax.set_xlabel("one fit, no epochs (filled: train, open: val)" if one_step else "epoch")
        if one_step:
            ax.set_xticks([])
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7, ncol=2)
    fig.suptitle(title)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def write_report(res: CVResult, out: str | Path, extra: dict | None = None) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    m = res.metrics()
    if extra:
        m.update(extra)
    (out / "metrics.json").write_text(json.dumps(m, indent=1))
    name = f"{res.model}, {res.protocol} {len(res.folds)}-fold"
    plot_confusion(
        np.asarray(m["confusion_matrix"]), res.classes, out / "confusion_matrix.png", name
    )
    plot_curves(res.histories, out / "training_curves.png", name)
    (out / "report.md").write_text(render_markdown(m))
    return m


def render_markdown(m: dict) -> str:
    proto = {
        "grouped": "stratified group k-fold (no source video on both sides of a split)",
        "source": "leave one source of an exercise out (train without it, test on it); pooled over tested clips",
        "seed": "plain stratified k-fold over clips, as the reference did (near-twin clips can cross folds)",
    }[m["protocol"]]
    lines = [
        f"# Cross-validation: `{m['model']}`",
        "",
        f"Protocol: **{m['protocol']}** - {proto}; {len(m['folds'])} folds, seed {m['config']['train']['seed']}.",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| accuracy (mean +- std over folds) | {m['accuracy_mean']:.3f} +- {m['accuracy_std']:.3f} |",
        f"| macro-F1 (mean +- std over folds) | {m['macro_f1_mean']:.3f} +- {m['macro_f1_std']:.3f} |",
        f"| pooled out-of-fold accuracy | {m['pooled_accuracy']:.3f} |",
        f"| training time, all folds | {m['train_seconds']:.0f} s |",
        f"| inference per clip (features + model) | {m['infer_ms_per_clip']:.1f} ms |",
        "",
        "## Folds",
        "",
        "| fold | test clips | accuracy | macro-F1 | epochs (best) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in m["folds"]:
        lines.append(
            f"| {f['fold']} | {f['clips']} | {f['accuracy']:.3f} | {f['macro_f1']:.3f} | {f['epochs']} ({f['best_epoch']}) |"
        )
    lines += ["", "## Per class (out-of-fold)", "", "| class | precision | recall | F1 | clips | note |",
              "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for c, r in m["per_class"].items():
        note = (
            "too few clips/groups to test in every fold: not a reliable figure"
            if r["too_few_for_every_fold"]
            else ""
        )
        lines.append(
            f"| {c} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} | {note} |"
        )
    if m.get("rare_classes"):
        lines += [
            "",
            f"Flagged classes ({', '.join(m['rare_classes'])}) are trained on but their scores are not a measurement.",
        ]
    lines += [
        "",
        "Plots: `confusion_matrix.png` (counts and row-normalized), `training_curves.png`.",
        "",
        BASELINE_NOTE,
        "",
    ]
    return "\n".join(lines)
