"""MTCNN's three-stage cascade (Zhang et al. 2016) on one image, with the original's crops.

This follows facenet-pytorch's `detect_face` step by step (same nets, thresholds, pyramid,
non-maximum suppression and box regression, with its helpers copied into `mtcnn_boxes` so that
neither it nor torchvision is imported) except in one place: where a candidate box reaches past the
image, facenet-pytorch crops only the part inside and stretches it to the refining net's input,
while the original MTCNN (and the data its R-Net and O-Net were trained on) fills the part outside
with black, and here each pyramid level is framed in black too (LEVEL_BORDER). Stretched crops put
the landmarks of a face near the photo's edge (a tight portrait: every faces_dev photo) 0.213 eye
distances from dlib's, black-filled ones 0.041 (median of 195 faces_dev photos,
benchmarks/landmark_accuracy.py). The previous fix framed the whole photo in black and ran the
cascade a second time: detection of the 1 MP benchmark photo took 265 ms; in one pass it takes
142 ms (103 ms with facenet-pytorch's stretched crops).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .mtcnn_boxes import batched_nms_numpy, bbreg, generateBoundingBox, imresample, nms, rerec

THRESHOLDS = (0.6, 0.7, 0.7)  # P-, R- and O-Net's face probabilities to pass on (facenet-pytorch's)
PYRAMID_FACTOR = 0.709  # between pyramid levels: area halves (MTCNN's)
# Black pixels around each pyramid level, so P-Net's 12 px window may sit half outside the photo:
# a close-up whose face runs past the frame (dev093 of faces_dev) is still proposed, as it was when
# the whole photo was framed. At most 6 px more per side: nothing measurable at the fine levels.
LEVEL_BORDER = 6
LARGEST_FACE = 2.0  # of the photo's shorter side: the pyramid goes on until faces this large fit


def normalise(pixels: torch.Tensor) -> torch.Tensor:
    """0..255 pixels to MTCNN's input range, -1..1 (black is -1)."""
    return (pixels - 127.5) * 0.0078125


def padded_crops(image: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """The square `boxes` [N, >=4] cut from `image` [3, H, W] (0..255) and resized to size x size,
    each box's part outside the image filled with black as in the original MTCNN.

    Box corners are truncated to whole pixels as facenet-pytorch's `pad` does, with its 1-based
    inclusive convention: a box (x1, y1, x2, y2) covers columns int(x1) - 1 .. int(x2) - 1."""
    height, width = image.shape[1:]
    corners = boxes[:, :4].trunc().int().tolist()
    crops = []
    for x1, y1, x2, y2 in corners:
        left, top = x1 - 1, y1 - 1  # first column and row, 0-based
        right, bottom = max(x2, left + 1), max(y2, top + 1)  # one past the last; at least a pixel
        inside = image[:, max(top, 0):min(bottom, height), max(left, 0):min(right, width)]
        # Any part of the box outside the image becomes black (0), before resizing.
        fill = (max(-left, 0), max(right - width, 0), max(-top, 0), max(bottom - height, 0))
        if inside.numel() == 0:  # wholly outside: all black
            box = image.new_zeros((3, bottom - top, right - left))
        else:
            box = F.pad(inside, fill) if any(fill) else inside
        crops.append(imresample(box.unsqueeze(0), (size, size)))
    return torch.cat(crops)


def pyramid_scales(height: int, width: int, min_face_size: int) -> list[float]:
    """Scales at which P-Net's 12 px window sees faces from min_face_size up to LARGEST_FACE times
    the image's shorter side."""
    scale = 12.0 / min_face_size
    shortest = min(height, width) * scale
    scales = []
    while shortest * LARGEST_FACE >= 12:
        scales.append(scale)
        scale *= PYRAMID_FACTOR
        shortest *= PYRAMID_FACTOR
    return scales


def propose(image: torch.Tensor, pnet: nn.Module, min_face_size: int) -> torch.Tensor:
    """P-Net over the image pyramid: candidate boxes [N, 5] (x1, y1, x2, y2, probability),
    regressed and squared."""
    height, width = image.shape[1:]
    batch = image.unsqueeze(0)
    boxes = [image.new_zeros((0, 9))]
    for scale in pyramid_scales(height, width, min_face_size):
        level = imresample(batch, (int(height * scale + 1), int(width * scale + 1)))
        level = F.pad(level, (LEVEL_BORDER,) * 4)  # black, before normalising
        # Channels-last: P-Net's convolutions run about 1.5x faster on CPU (measured, 2 cores).
        regression, probabilities = pnet(normalise(level).contiguous(memory_format=torch.channels_last))
        found, _ = generateBoundingBox(regression, probabilities[:, 1], scale, THRESHOLDS[0])
        found[:, :4] -= LEVEL_BORDER / scale  # from the framed level's pixels to the image's
        boxes.append(found[nms(found[:, :4], found[:, 4], 0.5)])
    boxes = torch.cat(boxes)
    boxes = boxes[nms(boxes[:, :4], boxes[:, 4], 0.7)]
    width_, height_ = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    regressed = torch.stack([boxes[:, 0] + boxes[:, 5] * width_, boxes[:, 1] + boxes[:, 6] * height_,
                             boxes[:, 2] + boxes[:, 7] * width_, boxes[:, 3] + boxes[:, 8] * height_,
                             boxes[:, 4]], dim=1)
    return rerec(regressed)


def refine(image: torch.Tensor, boxes: torch.Tensor, rnet: nn.Module) -> torch.Tensor:
    """R-Net on 24 px crops of the candidates: the ones it keeps, regressed and squared."""
    regression, probabilities = rnet(normalise(padded_crops(image, boxes, 24)))
    score = probabilities[:, 1]
    keep = score > THRESHOLDS[1]
    boxes = torch.cat((boxes[keep, :4], score[keep, None]), dim=1)
    pick = nms(boxes[:, :4], boxes[:, 4], 0.7)
    return rerec(bbreg(boxes[pick], regression[keep][pick]))


def output(image: torch.Tensor, boxes: torch.Tensor, onet: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """O-Net on 48 px crops: final boxes [N, 5] and their five landmarks [N, 5, 2]."""
    regression, landmarks, probabilities = onet(normalise(padded_crops(image, boxes, 48)))
    score = probabilities[:, 1]
    keep = score > THRESHOLDS[2]
    boxes = torch.cat((boxes[keep, :4], score[keep, None]), dim=1)
    landmarks = landmarks[keep]
    box_width = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
    box_height = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
    points = torch.stack((box_width * landmarks[:, :5] + boxes[:, 0:1] - 1,
                          box_height * landmarks[:, 5:] + boxes[:, 1:2] - 1), dim=2)
    boxes = bbreg(boxes, regression[keep])
    # The last suppression measures overlap against the smaller box ("Min"), as MTCNN does.
    pick = batched_nms_numpy(boxes[:, :4], boxes[:, 4], torch.zeros(len(boxes), dtype=torch.long), 0.7, "Min")
    return boxes[pick], points[pick]


def run_cascade(rgb: np.ndarray, pnet: nn.Module, rnet: nn.Module, onet: nn.Module, *,
                min_face_size: int, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """All three stages on `rgb` [H, W, 3] uint8: boxes [N, 5] (x1, y1, x2, y2, probability)
    and landmarks [N, 5, 2] (x, y), float64, in `rgb`'s pixels."""
    dtype = next(pnet.parameters()).dtype
    with torch.inference_mode():
        # Planar [3, H, W]: the area resizes of the pyramid and the crops run 1.7x faster than on
        # interleaved RGB rows (measured, 2 cores).
        image = torch.as_tensor(np.array(rgb), device=device).permute(2, 0, 1).to(dtype).contiguous()
        boxes = propose(image, pnet, min_face_size)
        points = torch.zeros(0, 5, 2)
        if len(boxes):
            boxes = refine(image, boxes, rnet)
        if len(boxes):
            boxes, points = output(image, boxes, onet)
    return (boxes.cpu().numpy().astype(np.float64).reshape(-1, 5),
            points.cpu().numpy().astype(np.float64).reshape(-1, 5, 2))
