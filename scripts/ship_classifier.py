"""Copy the trained expression classifier into checkpoints/ and write its part of the model card.

    python scripts/ship_classifier.py --run runs/classifier --device-note "CPU, 2-core AMD EPYC"

Copies `classifier.safetensors`, draws its PrivateTest confusion matrix and its
training curve under assets/, and replaces the text between the classifier
markers in checkpoints/MODEL_CARD.md with the numbers from the file's own
metadata (accuracies, confusion matrices, epochs, time, command).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan.checkpoint import read_metadata  # noqa: E402
from gan.classifier import ExpressionClassifier, load_classifier  # noqa: E402
from gan.data import EXPRESSIONS, read_fer2013  # noqa: E402
from gan.run_files import read_metrics  # noqa: E402
from gan.classifier_eval import robustness, write_confusion_plot  # noqa: E402
from gan.run_history import describe_sittings  # noqa: E402
from scripts.doc_markers import replace_between_markers  # noqa: E402


def write_training_plot(metrics: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(metrics)
    epochs = [r["epoch"] for r in rows]
    fig, ax = plt.subplots(figsize=(5.2, 3.4), dpi=100)
    ax.plot(epochs, [r["train_accuracy"] for r in rows], label="Training (augmented)")
    ax.plot(epochs, [r["public_accuracy"] for r in rows], label="PublicTest (selection)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Expression classifier: accuracy per epoch")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def matrix_table(matrix: np.ndarray) -> str:
    head = "| true \\ predicted | " + " | ".join(EXPRESSIONS) + " | recall |\n"
    head += "|---" * (len(EXPRESSIONS) + 2) + "|\n"
    rows = ""
    for i, name in enumerate(EXPRESSIONS):
        recall = matrix[i, i] / max(1, matrix[i].sum())
        rows += f"| **{name}** | " + " | ".join(str(v) for v in matrix[i]) + f" | {recall:.1%} |\n"
    precision = [matrix[j, j] / max(1, matrix[:, j].sum()) for j in range(len(EXPRESSIONS))]
    rows += "| precision | " + " | ".join(f"{p:.1%}" for p in precision) + " | |\n"
    return head + rows


def robustness_table(model: ExpressionClassifier, data_path: str) -> str:
    rows = "| split | as is | pixel noise (15 grey levels) | blur (2x) |\n|---|---|---|---|\n"
    for split in ("PublicTest", "PrivateTest"):
        r = robustness(model, read_fer2013(data_path, split=split))
        rows += f"| {split} | {r['clean']:.1%} | {r['noise_15']:.1%} | {r['blur_2x']:.1%} |\n"
    return rows


def card_section(meta: dict, device_note: str, robust: str) -> str:
    public, private = meta["public_test"], meta["private_test"]
    minutes = meta["train_seconds"] / 60
    return (
        f"- **PrivateTest accuracy: {private['accuracy']:.2%}** ({private['images']} faces, read once, after "
        f"training); PublicTest {public['accuracy']:.2%} (used to pick the epoch).\n"
        f"- Selected epoch {meta['best_epoch']} of {meta['epochs']}; {minutes:.0f} min of training and "
        f"evaluation on {device_note} (recorded device: `{meta['device']}`).\n"
        f"- Command: `{meta['command']}`\n"
        + (f"- Trained in {len(meta['history'])} sittings: {describe_sittings(meta['history'])}\n"
           if len(meta.get("history") or []) > 1 else "")
        + "- Predictions average the face and its mirror image.\n\n"
        "PrivateTest confusion matrix (counts; rows are the FER2013 label):\n\n"
        + matrix_table(np.array(private["confusion"]))
        + "\nAccuracy when the image quality drops (reported only; nothing was chosen by it):\n\n" + robust
        + "\n![PrivateTest confusion matrix](../assets/classifier_confusion.png) "
        "![accuracy per epoch](../assets/classifier_training.png)\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "classifier")
    parser.add_argument("--device-note", required=True, help="the machine it trained on, for the card")
    parser.add_argument("--data", type=Path, default=None, help="FER2013 csv (default: the one it trained on)")
    args = parser.parse_args()
    source = args.run / "classifier.safetensors"
    meta = read_metadata(source)
    target = ROOT / "checkpoints" / "classifier.safetensors"
    shutil.copy(source, target)
    assets = ROOT / "assets"
    write_confusion_plot(np.array(meta["private_test"]["confusion"]), assets / "classifier_confusion.png",
                         f"PrivateTest confusion (accuracy {meta['private_test']['accuracy']:.1%})")
    write_training_plot(args.run / "metrics.jsonl", assets / "classifier_training.png")
    model, _ = load_classifier(target)
    robust = robustness_table(model, str(args.data or ROOT / meta["config"]["data"]))
    replace_between_markers(ROOT / "checkpoints" / "MODEL_CARD.md", "classifier",
                            card_section(meta, args.device_note, robust))
    print(f"shipped {target}: PublicTest {meta['public_test']['accuracy']:.2%}, "
          f"PrivateTest {meta['private_test']['accuracy']:.2%}, epoch {meta['best_epoch']}/{meta['epochs']}")


if __name__ == "__main__":
    main()
