"""Latency of each editing stage for a 1-megapixel photo with one face.

    python benchmarks/edit_latency.py --repeats 10 [--megapixels 1] [--device cpu|cuda] [--threads 2] [--results PATH]

Times each stage of the default edit (conditional model, flow transfer): read,
detect, align, classify (the face's own expression), encode (the encoder's
starting z), invert, render (T at the default strength; S is the inversion's own
image), flow (the renders' landmarks, the flow
from them and the residual),
transfer (warp the photo), the whole `Editor.edit` (with nothing remembered: the first
edit of a photo), another expression of the same photo right after (its faces and fit
remembered, editor/recent.py), and a slider move (`Editor.render`
with other expression weights: no new fit), writing the edited photo as the page's
download does (PNG, zlib level 1) and as a JPEG at 95, and prints p50 and
p95 per stage (milliseconds), with the machine. Appends a JSON
line to benchmarks/results/edit_latency.jsonl (--results: another file).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import RESULTS, append_jsonl, existing_dir, existing_file  # noqa: E402
from benchmarks.arguments import positive_float, positive_int  # noqa: E402
from benchmarks.machine import device_name  # noqa: E402
from editor.faces import align_face  # noqa: E402
from editor.invert import invert  # noqa: E402
from editor.photo import read_photo  # noqa: E402
from editor.edits import DEFAULT_INVERSION, DEFAULT_STRENGTH  # noqa: E402
from editor.edits import expression_weights, target_label, to_model_range, to_uint8  # noqa: E402
from editor.pipeline import Editor  # noqa: E402
from editor.renders import render_conditional, render_points  # noqa: E402
from editor.change_to_photo import apply_change  # noqa: E402
from editor.transfer import face_change  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402

PHOTO = ROOT.parent / "shared" / "data" / "photos" / "fr_obama.jpg"


def resized_jpeg(path: Path, megapixels: float = 1.0) -> bytes:
    """The test photo resized to about `megapixels` million pixels, as JPEG bytes (a camera's
    photo has more detail than an enlarged one; the stages' times depend on the pixel count)."""
    image = Image.open(path).convert("RGB")
    scale = (megapixels * 1_000_000 / (image.width * image.height)) ** 0.5
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)) * 1000, float(np.percentile(samples, 95)) * 1000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # A str default: argparse checks it with the type only when the option is left out, so a
    # missing shared photo is reported in one line too.
    parser.add_argument("--photo", type=existing_file, default=str(PHOTO), help="a photo with a face (one is timed)")
    parser.add_argument("--expression", choices=EXPRESSIONS, default="surprise")
    parser.add_argument("--repeats", type=positive_int, default=10)
    parser.add_argument("--megapixels", type=positive_float, default=1.0, help="the photo's size (default: 1)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=positive_int, default=None)
    parser.add_argument("--checkpoints", type=existing_dir, default=str(ROOT / "checkpoints"))
    parser.add_argument("--results", type=Path, default=RESULTS / "edit_latency.jsonl",
                        help="append the JSON line here (default: %(default)s)")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = resized_jpeg(args.photo, args.megapixels)
    editor = Editor.load(args.checkpoints, device=args.device)
    G = editor.conditional
    bank = editor.bank("conditional")
    steps, restarts = DEFAULT_INVERSION["conditional"]
    editor.edit(data, args.expression)  # warm-up: first calls allocate and pick kernels
    stages = ("read", "detect", "align", "classify", "encode", "invert", "render", "flow", "transfer", "edit",
              "another", "slider", "png", "jpeg")
    times: dict[str, list[float]] = {k: [] for k in stages}
    other = "happy" if args.expression != "happy" else "sad"
    for repeat in range(args.repeats):
        editor.forget()  # the edit below starts cold: the photo's faces and fit are not remembered
        marks = [time.perf_counter()]
        photo = read_photo(data, name="photo.jpg")
        marks.append(time.perf_counter())
        faces = editor.detector.detect(photo.rgb, name=photo.name)
        marks.append(time.perf_counter())
        crop, alignment = align_face(photo.rgb, faces[0])
        target = to_model_range(crop, editor.device)
        marks.append(time.perf_counter())
        source_label = editor.source_label(crop)
        marks.append(time.perf_counter())
        with torch.no_grad():
            start = editor.encoder(target)[0] if editor.encoder is not None else None
        marks.append(time.perf_counter())
        fit = invert(G, target, mask=editor.face_mask, seed=repeat, device=editor.device, init_bank=bank, start=start,
                     label=torch.from_numpy(source_label), steps=steps, restarts=restarts)
        marks.append(time.perf_counter())
        source = to_uint8(fit.image)
        label = target_label(source_label, expression_weights(args.expression, DEFAULT_STRENGTH["conditional"]))
        rendered = render_conditional(editor.conditional, fit.z, label, editor.device)
        marks.append(time.perf_counter())
        points = None
        if editor.landmarks is not None:  # the renders' landmarks give the motion (editor/motion.py)
            points = (render_points(editor.landmarks, source), render_points(editor.landmarks, rendered))
        change = face_change(source, rendered, crop, points=points)
        marks.append(time.perf_counter())
        apply_change(photo.rgb, change, alignment.to_photo)
        marks.append(time.perf_counter())
        result = editor.edit(data, args.expression, seed=repeat)
        marks.append(time.perf_counter())
        editor.edit(data, other, seed=repeat)  # what a person trying expressions waits for next
        marks.append(time.perf_counter())
        # A slider move: the edit's face re-rendered with other expression weights and transferred
        # again (what the UI's sliders do, before the display JPEG), no new fit.
        editor.render(result, weights={result.faces[0].index: expression_weights("happy", 0.5 + 0.1 * repeat)})
        marks.append(time.perf_counter())
        Image.fromarray(result.image).save(io.BytesIO(), "PNG", compress_level=1)  # the page's download
        marks.append(time.perf_counter())
        Image.fromarray(result.image).save(io.BytesIO(), "JPEG", quality=95)  # the CLI's --format jpg
        marks.append(time.perf_counter())
        for key, t_start, t_end in zip(stages, marks, marks[1:]):
            times[key].append(t_end - t_start)
    machine = device_name(args.device)
    width, height = Image.open(io.BytesIO(data)).size
    print(f"{width}x{height} photo, 1 face, {steps} steps x {restarts} restarts, {args.repeats} runs on {machine}")
    row = {"date": time.strftime("%Y-%m-%d"), "machine": machine, "photo": f"{width}x{height}",
           "repeats": args.repeats, "torch": torch.__version__, "inversion": f"{steps} steps x {restarts} restarts",
           "motion": "landmarks" if editor.landmarks is not None else "optical flow"}
    for key, samples in times.items():
        p50, p95 = percentiles(samples)
        row[key] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
        print(f"{key:7s} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms")
    append_jsonl(args.results, [row])
    print(f"appended to {args.results}")


if __name__ == "__main__":
    main()
