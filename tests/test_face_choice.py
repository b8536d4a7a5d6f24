"""Which faces the page ticks by default: the ones a person means, with the reason for each other one."""

from __future__ import annotations

import numpy as np
import pytest

from editor.face_choice import main_faces
from editor.faces import Face, FaceDetector
from editor.photo import read_photo

from .conftest import PHOTOS, photo_with_a_bystander, requires


def face(x: float, width: float, probability: float = 1.0) -> Face:
    return Face((x, 10.0, x + width, 10.0 + 1.2 * width), probability, np.zeros((5, 2), np.float32))


def test_large_confident_faces_are_chosen_and_the_others_explained():
    choice = main_faces([face(0, 150), face(200, 30), face(300, 140, 0.95), face(500, 70)])
    assert choice.chosen == [0, 3]
    assert choice.left_out == {1: "small: 30 px wide, 20% of the largest face",
                               2: "unsure it is a face: 95.0% confident"}


def test_a_lone_small_or_unsure_face_is_still_chosen():
    assert main_faces([face(0, 25)]).chosen == [0]
    assert main_faces([face(0, 25, 0.93)]).chosen == [0]
    choice = main_faces([face(0, 60, 0.95), face(100, 20)])  # nothing qualifies: the largest is edited
    assert choice.chosen == [0] and list(choice.left_out) == [1]
    assert main_faces([]).chosen == []


@requires(PHOTOS / "fr_two_people.jpg")
def test_a_tiny_bystander_in_a_group_photo_is_left_out(tmp_path):
    faces = FaceDetector().detect(read_photo(photo_with_a_bystander(tmp_path)).rgb)
    assert len(faces) == 3  # the two people and the bystander between them
    choice = main_faces(faces)
    assert choice.chosen == [0, 2]
    assert choice.left_out[1].startswith("small: ")


@pytest.mark.parametrize("path", [pytest.param(PHOTOS / name, marks=requires(PHOTOS / name), id=name)
                                  for name in ("fr_obama.jpg", "fr_two_people.jpg")])
def test_every_face_of_the_test_photos_is_chosen(path):
    faces = FaceDetector().detect(read_photo(path).rgb)
    assert main_faces(faces).chosen == list(range(len(faces)))
