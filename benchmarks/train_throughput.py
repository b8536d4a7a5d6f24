"""Images per second of our trainer vs. a straightforward reference loop.

The reference is the pytorch/examples DCGAN style: a torchvision Dataset of PIL
images behind a DataLoader, ToTensor/Normalize per image, a host->device copy per
batch, fp32, BCE on the sigmoid and a `.item()` per step. Ours keeps the uint8
dataset on the device, gathers batches there, uses bf16 autocast where the
hardware has it, channels_last on CUDA, and syncs once per epoch. Both run the
same networks on the same FER2013 images in the same process.

    python benchmarks/train_throughput.py --data ../shared/data/fer2013.csv.gz --steps 200

It prints one line per loop, the ratio, and the projected time for the seed's
recipe (7 models x 50 epochs over the 28,709 Training images), and appends a
JSON line to benchmarks/results/train_throughput.jsonl (--results: another file).
Our trainer's checkpoints and logs go to `--out` (scratch, default /tmp/ee-bench).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.arguments import RESULTS, append_jsonl, existing_file, positive_int  # noqa: E402
from benchmarks.machine import device_name  # noqa: E402
from gan.data import read_fer2013  # noqa: E402
from gan.models import ModelConfig, build_models  # noqa: E402
from gan.device import resolve_device  # noqa: E402
from gan.train import TrainConfig, train  # noqa: E402

RECIPE_IMAGES = 28_709 * 50  # every Training image, 50 epochs (7 models together)
WARMUP_STEPS = 5  # not timed: the first steps allocate and pick kernels


class PILFaces(torch.utils.data.Dataset):
    """The reference loop's data: one PIL image per item, converted per item."""

    def __init__(self, images: np.ndarray) -> None:
        from torchvision import transforms

        self.images = [Image.fromarray(a) for a in images]
        self.transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.transform(self.images[i]), 0


def reference_loop(images: np.ndarray, device: torch.device, steps: int, batch_size: int) -> float:
    """pytorch/examples dcgan/main.py, trimmed to the training step."""
    loader = torch.utils.data.DataLoader(PILFaces(images), batch_size=batch_size, shuffle=True,
                                         num_workers=2, drop_last=True)
    G, D = build_models(ModelConfig(), seed=0)
    G, D = G.to(device), D.to(device)
    criterion = nn.BCELoss()
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    done, start = 0, None
    while done < steps + WARMUP_STEPS:
        for real, _ in loader:
            if done == WARMUP_STEPS:  # warm-up steps are not timed
                _sync(device)
                start = time.perf_counter()
            real = real.to(device)
            b = real.size(0)
            label = torch.full((b,), 1.0, device=device)
            D.zero_grad()
            err_real = criterion(D(real), label)
            err_real.backward()
            fake = G(torch.randn(b, 100, 1, 1, device=device))
            label.fill_(0.0)
            err_fake = criterion(D(fake.detach()), label)
            err_fake.backward()
            opt_d.step()
            G.zero_grad()
            label.fill_(1.0)
            err_g = criterion(D(fake), label)
            err_g.backward()
            opt_g.step()
            _ = err_real.item() + err_fake.item() + err_g.item()  # the example prints these every step
            done += 1
            if done >= steps + WARMUP_STEPS:
                break
    _sync(device)
    return steps * batch_size / (time.perf_counter() - start)


def epochs_for(steps: int, n_images: int, batch_size: int) -> int:
    """The fewest whole epochs that hold `steps` steps of `batch_size` over `n_images` images
    (as gan.train counts them). The trainer stops at max_steps anyway; this only keeps its
    progress bar's total near the steps that run instead of thousands of epochs' worth."""
    steps_per_epoch = max(1, n_images // batch_size)
    return -(-steps // steps_per_epoch)


def our_loop(data_path: str, images: torch.Tensor, device: torch.device, steps: int, batch_size: int,
             out: Path) -> float:
    from gan.data import FaceDataset

    data = FaceDataset(images, None, "benchmark")
    total = WARMUP_STEPS + steps
    config = TrainConfig(data=data_path, out=str(out), expression=None,
                         epochs=epochs_for(total, len(images), batch_size), batch_size=batch_size,
                         device=str(device), max_steps=WARMUP_STEPS, checkpoint_minutes=0, command="benchmark")
    train(config, data=data, fresh=True)  # warm-up (also compiles kernels / autotunes)
    result = train(replace(config, max_steps=total), data=data)
    return result.images_per_second


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=existing_file,
                        default=str(Path(__file__).resolve().parents[2] / "shared/data/fer2013.csv.gz"))
    parser.add_argument("--steps", type=positive_int, default=100, help="timed steps per loop")
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", default="/tmp/ee-bench", help="our trainer's scratch folder (default: %(default)s)")
    parser.add_argument("--results", type=Path, default=RESULTS / "train_throughput.jsonl",
                        help="append the JSON line here (default: %(default)s)")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    device = resolve_device(args.device)
    data = read_fer2013(args.data)  # all Training images, [N, 1, 48, 48] uint8
    ref = reference_loop(data.images[:, 0].numpy(), device, args.steps, args.batch_size)
    ours = our_loop(args.data, data.images, device, args.steps, args.batch_size, Path(args.out))
    machine = device_name(device)
    row = {"date": time.strftime("%Y-%m-%d"), "device": str(device), "machine": machine, "steps": args.steps,
           "batch_size": args.batch_size, "reference_images_per_s": round(ref, 1),
           "ours_images_per_s": round(ours, 1), "ratio": round(ours / ref, 2),
           "projected_recipe_minutes": round(RECIPE_IMAGES / ours / 60, 1), "torch": torch.__version__}
    print(f"reference loop: {ref:9.1f} images/s")
    print(f"our trainer:    {ours:9.1f} images/s  ({ours / ref:.2f}x)")
    print(f"7 models x 50 epochs at this speed: {row['projected_recipe_minutes']} min on {machine}")
    append_jsonl(args.results, [row])
    print(f"appended to {args.results}")


if __name__ == "__main__":
    main()
