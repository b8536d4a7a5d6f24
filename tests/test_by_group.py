"""benchmarks/by_group.py: UTKFace's labels from a file name, groups, age standardisation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import benchmark_module


@pytest.fixture(scope="module")
def by_group():
    return benchmark_module("by_group")


def _row(age: int, gender: int, ethnicity: int, target: str = "sad", *, hit: bool = True, same: bool = True,
         hit2: bool = False, n: int = 0) -> dict:
    return {"photo": f"dev{n:03d}_{age}_{gender}_{ethnicity}_20170104230349313.jpg", "target": target,
            "hit": hit, "hit2": hit2, "same": same, "sharpness": 1.0}


def test_labels_come_from_utkface_names(by_group):
    assert by_group.utkface_labels("dev148_49_0_0_20170104185007076.jpg") == {
        "age": 49, "age band": "45 and over", "gender": "men", "ethnicity": "white"}
    assert by_group.utkface_labels("29_1_3_20170103163726008.jpg")["ethnicity"] == "Indian"
    assert by_group.utkface_labels("fr_obama.jpg") is None
    assert by_group.utkface_labels("dev001_18_2_0_x.jpg") is None  # no gender 2 in UTKFace


def test_standardising_removes_a_difference_made_by_age_alone(by_group):
    # Both groups land 90% under 30 and 50% from 45; A is mostly young, B mostly old.
    rows = []
    for ethnicity, young, old in ((0, 10, 90), (2, 90, 10)):
        for age, count in ((20, young), (60, old)):
            hits = count * (9 if age == 20 else 5) // 10
            rows += [_row(age, 0, ethnicity, hit=i < hits, n=i) for i in range(count)]
    rows = by_group.labelled(rows)
    plain = {name: by_group.share(items, by_group.both) for name, items in by_group.grouped(rows, "ethnicity").items()}
    assert plain["white"] == pytest.approx(0.54) and plain["Asian"] == pytest.approx(0.86)
    standard = by_group.standardised(rows, "ethnicity", by_group.both)
    assert standard["white"] == pytest.approx(0.7) and standard["Asian"] == pytest.approx(0.7)


def test_both_needs_the_same_person(by_group):
    assert by_group.both(_row(30, 1, 1, hit=True, same=True))
    assert not by_group.both(_row(30, 1, 1, hit=True, same=False))
    assert not by_group.both2(_row(30, 1, 1, hit=True, hit2=False))


def test_the_script_writes_its_table(by_group, tmp_path):
    rows = [_row(25, 0, 0, "happy", n=1), _row(50, 1, 1, "sad", hit=False, n=2), _row(35, 1, 4, "angry", n=3),
            {"photo": "fr_obama.jpg", "target": "sad", "hit": True, "hit2": True, "same": True}]
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"rows": {"default": rows}}))
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- by-group:start -->\nold\n<!-- by-group:end -->\nafter\n")
    done = subprocess.run([sys.executable, "benchmarks/by_group.py", str(screen), "--readme", str(readme)],
                          capture_output=True, text=True, cwd=by_group.ROOT, check=True)
    assert "| white | 1 | 100.0% |" in done.stdout and "| Black | 1 | 0.0% |" in done.stdout
    assert "3 edits" in done.stdout  # the photo without UTKFace labels is left out
    text = readme.read_text()
    assert text.startswith("before\n") and "old" not in text and "| 45 and over | 1 |" in text
    wrong = subprocess.run([sys.executable, "benchmarks/by_group.py", str(screen), "--variant", "nope"],
                           capture_output=True, text=True, cwd=by_group.ROOT)
    assert wrong.returncode == 2 and "no variant 'nope'" in wrong.stderr
