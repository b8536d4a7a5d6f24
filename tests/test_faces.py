"""MTCNN detection on real photos, the safetensors weights, and the alignment to
FER2013's framing with its exact inverse."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
import skimage.data
import torch
from safetensors import safe_open

from editor.faces import (
    DEFAULT_WEIGHTS,
    FER_TEMPLATE,
    Face,
    FaceDetector,
    NoFaceError,
    align_face,
    apply_affine,
    similarity_transform,
    template,
)
from editor.photo import read_photo
from gan.checkpoint import CheckpointError

from .conftest import PHOTOS, REPO, requires, torch_threads


@pytest.fixture(scope="module")
def detector():
    # MTCNN runs many tiny convolutions: one thread is as fast, and far faster
    # when another job holds the other cores.
    with torch_threads(1):
        yield FaceDetector()


@pytest.fixture(scope="module")
def obama() -> np.ndarray:
    return read_photo(PHOTOS / "fr_obama.jpg").rgb


def check_plausible(face: Face) -> None:
    """Landmarks inside the box, in a face's order: eyes level above the nose, mouth below."""
    x1, y1, x2, y2 = face.box
    marks = face.landmarks
    assert marks.shape == (5, 2)
    assert np.all((marks[:, 0] > x1) & (marks[:, 0] < x2) & (marks[:, 1] > y1) & (marks[:, 1] < y2))
    left_eye, right_eye, nose, mouth_left, mouth_right = marks
    assert left_eye[0] < nose[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    assert face.probability > 0.99


def test_weights_load_without_unpickling(monkeypatch, detector):  # noqa: ARG001 (one torch thread)
    def refuse(*args, **kwargs):
        raise AssertionError("torch.load called: the .pt pickles must never be loaded")

    monkeypatch.setattr(torch, "load", refuse)
    detector = FaceDetector()
    faces = detector.detect(skimage.data.astronaut(), name="astronaut.png")
    assert len(faces) == 1
    with safe_open(str(DEFAULT_WEIGHTS), framework="pt") as handle:
        keys = set(handle.keys())
        metadata = handle.metadata()["expression_editor"]
    assert {key.split(".")[0] for key in keys} == {"pnet", "rnet", "onet"}
    assert "facenet-pytorch" in metadata and "MIT" in metadata


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_missing_or_corrupt_weights_say_how_to_restore(tmp_path, damage, monkeypatch):
    weights = tmp_path / "mtcnn.safetensors"
    if damage == "corrupt":
        shutil.copy(DEFAULT_WEIGHTS, weights)
        weights.write_bytes(weights.read_bytes()[:5000])
    # one's own folder: copy the shipped file there (git knows nothing of that folder)
    with pytest.raises(CheckpointError, match=rf"Copy the shipped one into .*`cp {re.escape(str(DEFAULT_WEIGHTS))} "):
        FaceDetector(weights=weights)
    # the shipped file itself (here: as if this were it): git restores it
    monkeypatch.setattr("editor.faces.DEFAULT_WEIGHTS", weights)
    with pytest.raises(CheckpointError, match=r"git checkout -- checkpoints/mtcnn\.safetensors"):
        FaceDetector(weights=weights)


@requires(PHOTOS)
def test_one_face(detector, obama):
    faces = detector.detect(obama, name="fr_obama.jpg")
    assert len(faces) == 1
    check_plausible(faces[0])
    assert 150 < faces[0].width < 400  # the face is about a quarter of the 910 px width


def test_one_face_in_astronaut(detector):
    faces = detector.detect(skimage.data.astronaut())
    assert len(faces) == 1
    check_plausible(faces[0])


@requires(PHOTOS)
def test_two_faces_left_to_right(detector):
    faces = detector.detect(read_photo(PHOTOS / "fr_two_people.jpg").rgb)
    assert len(faces) == 2
    for face in faces:
        check_plausible(face)
    assert faces[0].box[2] < faces[1].box[0]  # sorted left to right, not overlapping


@requires(PHOTOS)
def test_small_photo(detector):
    faces = detector.detect(read_photo(PHOTOS / "fr_obama_small.jpg").rgb)
    assert len(faces) == 1
    check_plausible(faces[0])


@requires(PHOTOS)
@pytest.mark.parametrize("top, bottom, left, right", [
    (0, 600, 420, 800),  # cut 40 px into the left cheek
    (0, 600, 380, 800),  # cut 6 px into it
    (0, 600, 250, 620),  # inside, a few pixels from the right edge
    (190, 700, 200, 800),  # the forehead cut off
])
def test_a_face_at_the_edge_of_a_tight_crop_has_the_landmarks_it_has_in_the_whole_photo(detector, obama, top,
                                                                                       bottom, left, right):
    """facenet-pytorch stretches the part of a refining crop inside the photo where MTCNN fills
    the rest black: without black-filled crops (editor.mtcnn_cascade) these moved by 28-136 px and the
    edit was drawn beside the mouth. Within 10% of the eye distance of the whole photo's."""
    whole = detector.detect(obama)[0]
    cropped = detector.detect(np.ascontiguousarray(obama[top:bottom, left:right]))
    assert len(cropped) == 1
    eyes = float(np.linalg.norm(whole.landmarks[0] - whole.landmarks[1]))
    error = np.linalg.norm(cropped[0].landmarks + (left, top) - whole.landmarks, axis=1).max()
    assert error < 0.1 * eyes, (error, eyes)


@requires(PHOTOS)
def test_downscaled_detection_maps_back_to_full_resolution(detector, obama):
    full = detector.detect(obama)[0]
    # The same photo through max_side: detected at 512 px, reported in full-size pixels.
    limited = FaceDetector(max_side=512).detect(obama)[0]
    # And a copy the user downscaled by half: coordinates are half, up to a pixel or so.
    half = cv2.resize(obama, (obama.shape[1] // 2, obama.shape[0] // 2), interpolation=cv2.INTER_AREA)
    halved = detector.detect(half)[0]
    # MTCNN's landmarks move by a pixel or two at the scale it sees the face:
    # allow 3% of the face's width (7 px here) in full-size pixels.
    tolerance = 0.03 * full.width
    np.testing.assert_allclose(limited.landmarks, full.landmarks, atol=tolerance)
    np.testing.assert_allclose(limited.box, full.box, atol=2 * tolerance)
    np.testing.assert_allclose((halved.landmarks + 0.5) * 2 - 0.5, full.landmarks, atol=tolerance)
    np.testing.assert_allclose(np.array(halved.box) * 2, full.box, atol=2 * tolerance)


@requires(PHOTOS)
def test_concurrent_calls_agree(detector):
    rgb = read_photo(PHOTOS / "fr_obama_small.jpg").rgb
    expected = detector.detect(rgb)[0]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: detector.detect(rgb), range(4)))
    for faces in results:
        assert len(faces) == 1
        np.testing.assert_allclose(faces[0].landmarks, expected.landmarks, atol=1e-4)


def test_no_face_names_the_photo(detector):
    with pytest.raises(NoFaceError, match=r"no face found in coffee\.jpg.*larger in the frame"):
        detector.detect(skimage.data.coffee(), name="coffee.jpg")
    with pytest.raises(NoFaceError, match="grey.png"):
        detector.detect(np.full((300, 400, 3), 128, np.uint8), name="grey.png")
    with pytest.raises(NoFaceError, match=r"tiny\.png is too small to hold a face \(12x10 pixels\)"):
        detector.detect(np.full((10, 12, 3), 128, np.uint8), name="tiny.png")


def test_a_panorama_too_narrow_for_a_face_says_so(detector):
    with pytest.raises(NoFaceError, match=r"^strip\.jpg is too narrow to hold a face \(10000x20 pixels\): .* at "
                                          r"least 200 pixels across"):
        detector.detect(np.full((20, 10000, 3), 128, np.uint8), name="strip.jpg")


def test_template_is_a_frontal_fer_face():
    assert FER_TEMPLATE.shape == (5, 2) and FER_TEMPLATE.dtype == np.float32
    left_eye, right_eye, nose, mouth_left, mouth_right = FER_TEMPLATE
    assert abs(left_eye[1] - right_eye[1]) < 1  # eyes level
    assert abs((left_eye[0] + right_eye[0]) / 2 - 24) < 1.5  # face centred
    assert 12 < right_eye[0] - left_eye[0] < 24
    assert left_eye[1] < nose[1] < mouth_left[1] < 44


@requires(PHOTOS)
@pytest.mark.parametrize("size", [48, 96])
def test_alignment_of_real_faces(detector, size):
    for name in ("fr_obama.jpg", "fr_two_people.jpg"):
        rgb = read_photo(PHOTOS / name).rgb
        for face in detector.detect(rgb):
            crop, alignment = align_face(rgb, face, size=size)
            assert crop.shape == (size, size) and crop.dtype == np.uint8
            assert alignment.size == size
            # A similarity cannot match 5 points exactly, and these people smile
            # wider than the median FER face: the eyes land within 1.75 crop pixels
            # of the template (48 px scale), every landmark within 3.5.
            error = np.linalg.norm(apply_affine(alignment.to_crop, face.landmarks) - template(size), axis=1)
            error /= size / 48
            assert error[:2].max() < 1.75, (name, error)
            assert np.sqrt(np.mean(error ** 2)) < 2.25, (name, error)
            assert error.max() < 3.5, (name, error)
            # The inverse is exact: photo -> crop -> photo is the identity.
            there_and_back = np.vstack([alignment.to_photo, [0, 0, 1]]) @ np.vstack([alignment.to_crop, [0, 0, 1]])
            np.testing.assert_allclose(there_and_back, np.eye(3), atol=1e-9)


def synthetic_face(angle_deg: float, scale: float) -> tuple[np.ndarray, Face]:
    """A light photo with a dark 3-pixel-wide dot at each landmark of a FER template
    rotated by `angle_deg` and scaled `scale` times (photo pixels per crop pixel)."""
    to_photo = cv2.getRotationMatrix2D((24, 24), angle_deg, scale)
    to_photo[:, 2] += (600 - 24, 500 - 24)
    marks = apply_affine(to_photo, template(48))
    rgb = np.full((1000, 1200, 3), 220, np.uint8)
    for x, y in marks:
        cv2.circle(rgb, (round(x * 16), round(y * 16)), round(1.5 * scale * 16), (20, 20, 20), -1, cv2.LINE_AA, 4)
    face = Face((0.0, 0.0, 1200.0, 1000.0), 1.0, marks.astype(np.float32))
    return rgb, face


@pytest.mark.parametrize("angle, scale", [(0, 1), (25, 6), (-40, 0.7)])
def test_crop_shows_the_landmarks_at_the_template(angle, scale):
    rgb, face = synthetic_face(angle, scale)
    crop, alignment = align_face(rgb, face)
    np.testing.assert_allclose(apply_affine(alignment.to_crop, face.landmarks), template(48), atol=1e-3)
    darkness = 220.0 - crop
    for x, y in template(48):
        # The centre of darkness around each template point is that point.
        x0, y0 = round(x) - 3, round(y) - 3
        window = darkness[y0:y0 + 7, x0:x0 + 7]
        ys, xs = np.mgrid[y0:y0 + 7, x0:x0 + 7]
        centre = np.array([(xs * window).sum(), (ys * window).sum()]) / window.sum()
        np.testing.assert_allclose(centre, (x, y), atol=0.35)


def test_large_faces_are_not_aliased():
    # A one-pixel checkerboard seen from far away is uniform grey, not a moire.
    rgb, face = synthetic_face(15, 12)
    checker = ((np.indices(rgb.shape[:2]).sum(0) % 2) * 255).astype(np.uint8)
    crop, _ = align_face(np.repeat(checker[:, :, None], 3, axis=2), face)
    assert np.abs(crop.astype(float) - 127.5).max() < 3


def test_similarity_transform_recovers_a_known_one():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 100, (5, 2))
    known = cv2.getRotationMatrix2D((10, 20), 33, 0.4)
    np.testing.assert_allclose(similarity_transform(src, apply_affine(known, src)), known, atol=1e-9)


def test_crop_is_itu_601_luma():
    rgb, face = synthetic_face(10, 3)
    rgb[:] = (200, 100, 50)
    crop, _ = align_face(rgb, face)
    assert np.all(crop == round(0.299 * 200 + 0.587 * 100 + 0.114 * 50))  # 124


def test_refining_crops_fill_the_part_outside_the_image_with_black():
    """The original MTCNN's crops, not facenet-pytorch's stretched ones (see editor.mtcnn_cascade)."""
    from editor.mtcnn_cascade import padded_crops

    image = torch.full((3, 40, 60), 200.0)
    # 1-based inclusive corners: this box covers columns -20..19 and rows 0..39 of the image.
    crops = padded_crops(image, torch.tensor([[-19.0, 1.0, 20.0, 40.0, 0.9]]), 8)
    assert crops.shape == (1, 3, 8, 8)
    assert torch.all(crops[0, :, :, :4] == 0) and torch.all(crops[0, :, :, 4:] == 200)
    inside = padded_crops(image, torch.tensor([[11.0, 1.0, 50.0, 40.0, 0.9]]), 8)
    assert torch.all(inside == 200)
    outside = padded_crops(image, torch.tensor([[100.0, 100.0, 120.0, 120.0, 0.9]]), 8)
    assert torch.all(outside == 0)


def test_the_pyramid_reaches_faces_larger_than_the_photo():
    from editor.mtcnn_cascade import LARGEST_FACE, pyramid_scales

    scales = pyramid_scales(200, 300, 20)
    assert scales[0] == pytest.approx(12 / 20)
    largest = 12 / scales[-1]  # the face P-Net's window sees at the coarsest level
    assert LARGEST_FACE * 200 * 0.709 < largest <= LARGEST_FACE * 200


@requires(PHOTOS)
def test_a_close_up_whose_face_runs_past_the_frame_is_found(detector, obama):
    """A square crop 0.9 of the face box wide, cut through cheeks, brow and chin: MTCNN needs
    its pyramid levels framed in black to propose it (the earlier detector found nothing)."""
    whole = detector.detect(obama)[0]
    x1, y1, x2, y2 = whole.box
    half = int(0.45 * (x2 - x1))
    left, top = int((x1 + x2) / 2) - half, int((y1 + y2) / 2) - half
    faces = detector.detect(np.ascontiguousarray(obama[top:top + 2 * half, left:left + 2 * half]))
    assert len(faces) == 1
    eyes = float(np.linalg.norm(whole.landmarks[0] - whole.landmarks[1]))
    error = np.linalg.norm(faces[0].landmarks + (left, top) - whole.landmarks, axis=1).max()
    assert error < 0.15 * eyes, (error, eyes)


def test_the_cascade_is_facenet_pytorchs_for_a_face_away_from_the_edges(detector, monkeypatch):
    """Without the black frames (which only matter at the photo's edge) our cascade is
    facenet-pytorch's `detect_face` step for step: same boxes, probabilities and landmarks."""
    from facenet_pytorch.models.utils.detect_face import detect_face

    from editor import mtcnn_cascade

    rgb = np.ascontiguousarray(skimage.data.astronaut())
    monkeypatch.setattr(mtcnn_cascade, "LEVEL_BORDER", 0)
    monkeypatch.setattr(mtcnn_cascade, "LARGEST_FACE", 1.0)
    boxes, points = mtcnn_cascade.run_cascade(rgb, detector.pnet, detector.rnet, detector.onet,
                                              min_face_size=detector.min_face_size, device=detector.device)
    with torch.inference_mode():
        theirs, their_points = detect_face(rgb, detector.min_face_size, detector.pnet, detector.rnet, detector.onet,
                                           list(mtcnn_cascade.THRESHOLDS), mtcnn_cascade.PYRAMID_FACTOR,
                                           detector.device)
    theirs = np.asarray(theirs[0], np.float64).reshape(-1, 5)
    assert len(boxes) == len(theirs) >= 1
    np.testing.assert_allclose(boxes, theirs, atol=1e-3)
    np.testing.assert_allclose(points, np.asarray(their_points[0], np.float64).reshape(-1, 5, 2), atol=1e-3)


def test_the_server_imports_neither_torchvision_nor_facenet_pytorch():
    """Their import cost 167 MB and 2 s (editor.mtcnn_nets): the editor's face detection uses its
    own copies of facenet-pytorch's nets and box helpers and its own non-maximum suppression."""
    code = ("import sys, editor.pipeline, editor.app, editor.__main__; "
            "print(sorted(m for m in ('torchvision', 'facenet_pytorch') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr


def test_our_nets_are_facenet_pytorchs():
    """editor.mtcnn_nets' copies give exactly what facenet-pytorch's classes give with the same weights."""
    from facenet_pytorch.models import mtcnn as theirs

    from editor import mtcnn_nets as ours

    with safe_open(str(DEFAULT_WEIGHTS), framework="pt") as handle:
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    generator = torch.Generator().manual_seed(0)
    for name, size in (("PNet", 37), ("RNet", 24), ("ONet", 48)):
        state = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith(f"{name.lower()}.")}
        mine, reference = getattr(ours, name)(), getattr(theirs, name)(pretrained=False)
        mine.load_state_dict(state)  # strict: the same names and shapes
        reference.load_state_dict(state)
        assert [(k, v.shape) for k, v in mine.state_dict().items()] == \
            [(k, v.shape) for k, v in reference.state_dict().items()]
        pixels = torch.rand(5, 3, size, size, generator=generator) * 2 - 1
        with torch.inference_mode():
            outputs, expected = mine.eval()(pixels), reference.eval()(pixels)
        assert len(outputs) == len(expected)
        for output, wanted in zip(outputs, expected):
            assert torch.equal(output, wanted), name


@pytest.mark.parametrize("ties", [False, True])
def test_our_nms_keeps_what_torchvisions_keeps(ties):
    """The same indices in the same order as torchvision.ops.nms, also where scores tie (both sort
    them stably: the earlier box first) and on P-Net's whole-pixel boxes, whose IoUs often tie."""
    from torchvision.ops import nms as torchvision_nms

    from editor.mtcnn_boxes import nms

    rng = np.random.default_rng(7)
    for trial in range(4):
        count = 300
        corners = rng.uniform(0, 200, (count, 2))
        sides = rng.uniform(1, 60, (count, 2))
        if trial % 2:  # whole pixels, as P-Net's floored windows
            corners, sides = np.floor(corners), np.ceil(sides)
        boxes = torch.tensor(np.hstack([corners, corners + sides]), dtype=torch.float32)
        scores = rng.integers(0, 10, count) / 10 if ties else rng.uniform(0, 1, count)
        scores = torch.tensor(scores, dtype=torch.float32)
        for threshold in (0.0, 0.3, 0.5, 0.7, 0.9):
            expected = torchvision_nms(boxes, scores, threshold)
            kept = nms(boxes, scores, threshold)
            assert kept.dtype == torch.int64 and torch.equal(kept, expected), (trial, threshold)
    empty = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert empty.dtype == torch.int64 and empty.shape == (0,)


def test_crop_footprint_is_the_photo_rectangle_a_crop_covers_grown_and_clipped():
    from editor.faces import crop_footprint

    twice = np.array([[2.0, 0.0, 100.0], [0.0, 2.0, 50.0]])  # crop pixel (x, y) -> photo (2x + 100, 2y + 50)
    # The crop's pixel edges -0.5 and 47.5 land on 99 and 195 (x), 49 and 145 (y); x1, y1 exclusive.
    assert crop_footprint(twice, 48, (480, 640, 3)) == (99, 49, 196, 146)
    assert crop_footprint(twice, 48, (480, 640, 3), margin=10) == (89, 39, 206, 156)
    assert crop_footprint(twice, 48, (120, 150, 3), margin=10) == (89, 39, 150, 120)  # clipped to the photo
    away = twice + np.array([[0.0, 0.0, 1000.0], [0.0, 0.0, 0.0]])
    assert crop_footprint(away, 48, (480, 640, 3)) is None  # wholly right of the photo
