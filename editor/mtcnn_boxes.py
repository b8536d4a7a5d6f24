"""Box arithmetic for MTCNN's cascade (editor.mtcnn_cascade): facenet-pytorch's helpers, copied,
and a non-maximum suppression that picks what torchvision's does.

`bbreg`, `generateBoundingBox`, `rerec`, `imresample`, `nms_numpy` and `batched_nms_numpy` are
facenet-pytorch 2.5.x's (facenet_pytorch/models/utils/detect_face.py,
https://github.com/timesler/facenet-pytorch, MIT licence, Copyright (c) 2019 Timothy Esler), with
their names and their arithmetic (same dtypes, same flooring), so boxes and landmarks are what
they were. `nms` returns the indices torchvision.ops.nms returns, in its order. Neither package is
imported (facenet-pytorch's module imports torchvision: see editor.mtcnn_nets for what that cost).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.functional import interpolate


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices (int64) of the boxes [N, 4] (x1, y1, x2, y2) kept by greedy non-maximum suppression,
    highest score first: torchvision.ops.nms's, ties included.

    As torchvision's CPU kernel: a stable descending sort of the scores (equal scores keep their
    order), areas (x2 - x1) * (y2 - y1) without facenet-pytorch's +1, and a box is dropped when its
    IoU with a kept one, computed in the boxes' dtype, exceeds the threshold (compared in double)."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.long, device=boxes.device)
    order = torch.sort(scores, stable=True, descending=True).indices
    ranked = boxes.detach().cpu().numpy()[order.cpu().numpy()]
    x1, y1, x2, y2 = (np.ascontiguousarray(ranked[:, k]) for k in range(4))
    areas = (x2 - x1) * (y2 - y1)
    suppressed = np.zeros(len(ranked), dtype=bool)
    keep = []
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 for two empty boxes: NaN, kept
        for i in range(len(ranked)):
            if suppressed[i]:
                continue
            keep.append(i)
            rest = slice(i + 1, None)
            width = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0)
            height = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0)
            inter = width * height
            iou = inter / (areas[i] + areas[rest] - inter)
            suppressed[rest] |= iou.astype(np.float64) > iou_threshold
    return order[torch.as_tensor(keep, dtype=torch.long, device=order.device)]


def bbreg(boundingbox: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
    """Boxes [N, >=4] moved by the regression [N, 4] (fractions of width + 1, height + 1); in place."""
    if reg.shape[1] == 1:
        reg = torch.reshape(reg, (reg.shape[2], reg.shape[3]))

    w = boundingbox[:, 2] - boundingbox[:, 0] + 1
    h = boundingbox[:, 3] - boundingbox[:, 1] + 1
    b1 = boundingbox[:, 0] + reg[:, 0] * w
    b2 = boundingbox[:, 1] + reg[:, 1] * h
    b3 = boundingbox[:, 2] + reg[:, 2] * w
    b4 = boundingbox[:, 3] + reg[:, 3] * h
    boundingbox[:, :4] = torch.stack([b1, b2, b3, b4]).permute(1, 0)

    return boundingbox


def generateBoundingBox(reg: torch.Tensor, probs: torch.Tensor, scale: float,
                        thresh: float) -> tuple[torch.Tensor, torch.Tensor]:
    """P-Net's windows with probability >= thresh: [M, 9] (x1, y1, x2, y2 in the unscaled image,
    probability, 4 regressions) and each one's image index [M]."""
    stride = 2
    cellsize = 12

    reg = reg.permute(1, 0, 2, 3)

    mask = probs >= thresh
    mask_inds = mask.nonzero()
    image_inds = mask_inds[:, 0]
    score = probs[mask]
    reg = reg[:, mask].permute(1, 0)
    bb = mask_inds[:, 1:].type(reg.dtype).flip(1)
    q1 = ((stride * bb + 1) / scale).floor()
    q2 = ((stride * bb + cellsize - 1 + 1) / scale).floor()
    boundingbox = torch.cat([q1, q2, score.unsqueeze(1), reg], dim=1)
    return boundingbox, image_inds


def nms_numpy(boxes: np.ndarray, scores: np.ndarray, threshold: float, method: str) -> np.ndarray:
    """MTCNN's own suppression: areas with +1, overlap over the union or ("Min") the smaller box."""
    if boxes.size == 0:
        return np.empty((0, 3))

    x1 = boxes[:, 0].copy()
    y1 = boxes[:, 1].copy()
    x2 = boxes[:, 2].copy()
    y2 = boxes[:, 3].copy()
    s = scores
    area = (x2 - x1 + 1) * (y2 - y1 + 1)

    order = np.argsort(s)
    pick = np.zeros_like(s, dtype=np.int64)  # facenet-pytorch's int16 wraps past 32767 boxes
    counter = 0
    while order.size > 0:
        i = order[-1]
        pick[counter] = i
        counter += 1
        idx = order[0:-1]

        xx1 = np.maximum(x1[i], x1[idx]).copy()
        yy1 = np.maximum(y1[i], y1[idx]).copy()
        xx2 = np.minimum(x2[i], x2[idx]).copy()
        yy2 = np.minimum(y2[i], y2[idx]).copy()

        w = np.maximum(0.0, xx2 - xx1 + 1).copy()
        h = np.maximum(0.0, yy2 - yy1 + 1).copy()

        inter = w * h
        if method == "Min":
            o = inter / np.minimum(area[i], area[idx])
        else:
            o = inter / (area[i] + area[idx] - inter)
        order = order[np.where(o <= threshold)]

    pick = pick[:counter].copy()
    return pick


def batched_nms_numpy(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, threshold: float,
                      method: str) -> torch.Tensor:
    """`nms_numpy` within each image index of `idxs`: indices (int64) of the kept boxes."""
    device = boxes.device
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=device)
    # strategy: in order to perform NMS independently per class.
    # we add an offset to all the boxes. The offset is dependent
    # only on the class idx, and is large enough so that boxes
    # from different classes do not overlap
    max_coordinate = boxes.max()
    offsets = idxs.to(boxes) * (max_coordinate + 1)
    boxes_for_nms = boxes + offsets[:, None]
    boxes_for_nms = boxes_for_nms.cpu().numpy()
    scores = scores.cpu().numpy()
    keep = nms_numpy(boxes_for_nms, scores, threshold, method)
    return torch.as_tensor(keep, dtype=torch.long, device=device)


def rerec(bboxA: torch.Tensor) -> torch.Tensor:
    """Boxes [N, >=4] made square about their centres, on their longer side; in place."""
    h = bboxA[:, 3] - bboxA[:, 1]
    w = bboxA[:, 2] - bboxA[:, 0]

    side = torch.max(w, h)
    bboxA[:, 0] = bboxA[:, 0] + w * 0.5 - side * 0.5
    bboxA[:, 1] = bboxA[:, 1] + h * 0.5 - side * 0.5
    bboxA[:, 2:4] = bboxA[:, :2] + side.repeat(2, 1).permute(1, 0)

    return bboxA


def imresample(img: torch.Tensor, sz: tuple[int, int]) -> torch.Tensor:
    """`img` [N, C, H, W] resized to `sz` (height, width) by area averaging."""
    im_data = interpolate(img, size=sz, mode="area")
    return im_data
