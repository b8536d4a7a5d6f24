"""Each reader on small real samples of the shared data, and on malformed files."""

from __future__ import annotations

import gzip
import io
import itertools
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan.data import (
    EXPRESSIONS,
    SPLITS,
    DataError,
    dataset_fingerprint,
    load_dataset,
    missing_splits,
    read_celeba,
    read_fer2013,
    read_ferplus_labels,
    read_image_folder,
    split_by_expression,
)

from .conftest import CELEBA_ZIP, DATA_DIR, FER_CSV, face_folder, requires

FERPLUS_CSV = DATA_DIR / "fer2013new.csv"


@pytest.fixture(scope="module")
def fer_lines() -> list[str]:
    """The header and first 300 rows of the real fer2013.csv (all three splits
    appear in the first rows of PublicTest/PrivateTest only further down, so
    take rows from each split)."""
    if not FER_CSV.exists():
        pytest.skip(f"{FER_CSV} not present")
    with gzip.open(FER_CSV, "rt") as handle:
        header = next(handle)
        rows = list(itertools.islice(handle, 40000))
    by_split = {s: [r for r in rows if r.rstrip().endswith(s)][:100] for s in ("Training", "PublicTest", "PrivateTest")}
    return [header] + by_split["Training"] + by_split["PublicTest"] + by_split["PrivateTest"]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines))
    return path


def _expected(lines: list[str], split: str, label: int | None = None) -> list[np.ndarray]:
    out = []
    for line in lines[1:]:
        emotion, pixels, usage = line.rstrip("\n").split(",")
        if usage == split and (label is None or int(emotion) == label):
            out.append(np.array(pixels.split(), dtype=np.uint8).reshape(48, 48))
    return out


def test_kaggle_csv_and_gz_give_the_same_images(tmp_path, fer_lines):
    csv_path = _write(tmp_path / "fer2013.csv", fer_lines)
    gz_path = tmp_path / "fer2013.csv.gz"
    gz_path.write_bytes(gzip.compress(csv_path.read_bytes()))
    plain = read_fer2013(csv_path)
    packed = read_fer2013(gz_path)
    assert plain.images.shape == (100, 1, 48, 48) and plain.images.dtype == torch.uint8
    assert (plain.images == packed.images).all()
    assert np.array_equal(plain.images[0, 0].numpy(), _expected(fer_lines, "Training")[0])


def test_split_and_expression_selection(tmp_path, fer_lines):
    path = _write(tmp_path / "fer2013.csv", fer_lines)
    happy = read_fer2013(path, split="PrivateTest", expression="happy")
    expected = _expected(fer_lines, "PrivateTest", EXPRESSIONS.index("happy"))
    assert len(happy) == len(expected) > 0
    assert (happy.labels == 3).all()
    assert np.array_equal(happy.images[-1, 0].numpy(), expected[-1])


def test_kaggle_variants_train_test_and_icml(tmp_path, fer_lines):
    rows = [line.rstrip("\n").split(",") for line in fer_lines[1:]]
    train = tmp_path / "train.csv"
    train.write_text("emotion,pixels\n" + "".join(f"{e},{p}\n" for e, p, u in rows if u == "Training"))
    test = tmp_path / "test.csv"
    test.write_text("pixels\n" + "".join(f"{p}\n" for e, p, u in rows if u != "Training"))
    icml = tmp_path / "icml_face_data.csv"
    icml.write_text("emotion, Usage, pixels\n" + "".join(f"{e},{u},{p}\n" for e, p, u in rows))
    assert len(read_fer2013(train)) == 100
    unlabelled = read_fer2013(test)  # Kaggle's test.csv has no labels; all rows count as Training
    assert len(unlabelled) == 200 and unlabelled.labels is None
    with pytest.raises(DataError, match="no emotion column"):
        read_fer2013(test, expression="happy")
    assert (read_fer2013(icml, split="PublicTest").images == read_fer2013(
        _write(tmp_path / "f.csv", fer_lines), split="PublicTest").images).all()


def test_image_folder_variant(tmp_path, fer_lines):
    reference = read_fer2013(_write(tmp_path / "fer2013.csv", fer_lines))
    for i, (image, label) in enumerate(zip(reference.images[:20], reference.labels[:20])):
        folder = tmp_path / "kaggle" / "train" / EXPRESSIONS[int(label)]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[0].numpy()).save(folder / f"im{i}.png")
    data = read_fer2013(tmp_path / "kaggle")
    assert len(data) == 20 and data.images.shape[1:] == (1, 48, 48)
    one = read_fer2013(tmp_path / "kaggle", expression=EXPRESSIONS[int(reference.labels[0])])
    assert (one.labels == reference.labels[0]).all()
    assert load_dataset(tmp_path / "kaggle").source.startswith("FER2013 folder")


@requires(FERPLUS_CSV)
def test_ferplus_majority_vote(tmp_path, fer_lines):
    labels = read_ferplus_labels(FERPLUS_CSV)
    assert len(labels) == 35887
    # Row 0 votes neutral 4, sadness 1, anger 3, disgust 2 -> neutral (6).
    assert labels[0] == 6
    # Row 1: neutral 6 -> neutral.
    assert labels[1] == 6
    assert (labels == -1).sum() > 0  # FER+ drops some images ("not a face", ties, contempt)
    relabelled = read_fer2013(FER_CSV, split="PrivateTest", ferplus=FERPLUS_CSV)
    assert 3000 < len(relabelled) < 3589


def test_malformed_rows_name_the_file_and_line(tmp_path, fer_lines):
    cases = {
        "short": (fer_lines[:3] + ["0,1 2 3,Training\n"], "line 4: expected 2304 pixel values"),
        "emotion": (fer_lines[:2] + ["9," + fer_lines[2].split(",", 1)[1]], "line 3: emotion 9 is outside 0-6"),
        "usage": (fer_lines[:2] + [fer_lines[2].replace("Training", "Validation")], "line 3: Usage 'Validation'"),
        "pixel": (fer_lines[:2] + [fer_lines[2].replace(" ", " 300 ", 1)], "line 3: expected 2304"),
        "fields": (fer_lines[:2] + ["0,Training\n"], "line 3: expected 3 fields"),
        "header": (["a,b,c\n"] + fer_lines[1:3], "missing column pixels in the header \\(a,b,c\\)"),
    }
    for name, (lines, message) in cases.items():
        path = _write(tmp_path / f"{name}.csv", lines)
        with pytest.raises(DataError, match=message) as info:
            read_fer2013(path)
        assert str(path) in str(info.value)
    bad_values = fer_lines[2].split(",")
    bad_values[1] = " ".join(["256"] + bad_values[1].split()[1:])
    path = _write(tmp_path / "value.csv", fer_lines[:2] + [",".join(bad_values)])
    with pytest.raises(DataError, match="0-255"):
        read_fer2013(path)


def test_truncated_gzip_and_missing_file(tmp_path, fer_lines):
    gz = tmp_path / "fer2013.csv.gz"
    gz.write_bytes(gzip.compress("".join(fer_lines).encode())[:5000])
    with pytest.raises(DataError, match="truncated"):
        read_fer2013(gz)
    with pytest.raises(DataError, match="no such file"):
        read_fer2013(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="unknown expression"):
        read_fer2013(_write(tmp_path / "f.csv", fer_lines), expression="smug")


def test_a_csv_with_a_header_and_no_rows_says_so(tmp_path, fer_lines):
    """It said 'no happy images in split Training; check --split', as if a filter were wrong."""
    path = _write(tmp_path / "header_only.csv", fer_lines[:1])
    with pytest.raises(DataError, match="has its header but no rows of data"):
        read_fer2013(path, split="Training", expression="happy")
    with pytest.raises(DataError, match="has its header but no rows of data"):
        read_fer2013(path)


@requires(FER_CSV)
def test_full_fer2013_counts_and_split_by_expression():
    data = read_fer2013(FER_CSV, split="PrivateTest")
    assert len(data) == 3589
    per = split_by_expression(data)
    assert [len(per[name]) for name in EXPRESSIONS] == [491, 55, 528, 879, 594, 416, 626]


@requires(CELEBA_ZIP)
def test_celeba_zip_and_folder(tmp_path):
    small = tmp_path / "img_align_celeba.zip"
    with zipfile.ZipFile(CELEBA_ZIP) as src, zipfile.ZipFile(small, "w") as dst:
        names = sorted(n for n in src.namelist() if n.endswith(".jpg"))[:12]
        for name in names:
            dst.writestr(name, src.read(name))
            (tmp_path / "folder").mkdir(exist_ok=True)
            (tmp_path / "folder" / Path(name).name).write_bytes(src.read(name))
    from_zip = read_celeba(small)
    from_folder = read_celeba(tmp_path / "folder")
    assert from_zip.images.shape == (12, 3, 64, 64)
    assert (from_zip.images == from_folder.images).all()
    assert from_zip.images.float().std() > 20  # real pictures, not blank
    assert load_dataset(small).images.shape == (12, 3, 64, 64)


def test_bad_images_and_zips(tmp_path):
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (80, 60), (10, 200, 30)).save(tmp_path / "imgs" / "ok.png")
    data = read_image_folder(tmp_path / "imgs", size=32, channels=1)
    assert data.images.shape == (1, 1, 32, 32)
    (tmp_path / "imgs" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="broken.jpg: not a readable image"):
        read_image_folder(tmp_path / "imgs", size=32, channels=3)
    (tmp_path / "celeba.zip").write_bytes(b"PK\x03\x04 but not really")
    with pytest.raises(DataError, match="not a readable zip"):
        read_celeba(tmp_path / "celeba.zip")
    with pytest.raises(DataError, match="no images found"):
        read_image_folder(tmp_path / "empty", size=32, channels=3)


@pytest.mark.parametrize("method, at", [(zipfile.ZIP_STORED, 0.5),  # its bytes differ: zipfile's "Bad CRC-32"
                                        (zipfile.ZIP_DEFLATED, 0.0)])  # its first block's type: zlib.error
def test_a_damaged_member_of_a_celeba_zip_is_named(tmp_path, method, at):
    """A zip whose directory reads but one member's bytes are damaged (a bad download): reading that
    member raised zipfile's CRC error or zlib's, a traceback, not a DataError naming the member."""
    path = tmp_path / "celeba.zip"
    noise = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)  # hardly compressible
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name in ("img/000001.png", "img/000002.png"):
            buffer = io.BytesIO()
            Image.fromarray(noise).save(buffer, "PNG")
            archive.writestr(name, buffer.getvalue())
        member = archive.getinfo("img/000002.png")
    data = bytearray(path.read_bytes())
    start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)  # its local header
    data[start + int(member.compress_size * at)] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"celeba\.zip: its member img/000002\.png is damaged \(.+\); "
                                        "download img_align_celeba.zip again"):
        read_celeba(path)
    assert len(read_celeba(path, limit=1)) == 1  # the sound member before it reads


def test_fingerprint_tells_files_apart(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x")
    b.write_text("y")
    assert dataset_fingerprint(a) != dataset_fingerprint(b)
    assert dataset_fingerprint(a) == dataset_fingerprint(tmp_path / "a.csv")
    assert len(dataset_fingerprint(a)) == 64


def _ferplus_file(path: Path, usages: list[str]) -> Path:
    """A FER+ file whose row i votes 10 for happiness (3) when i is even, neutral (6) when odd."""
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
    rows = [f"{usage},fer{i:07d}.png,{'0,10' if i % 2 == 0 else '10,0'},0,0,0,0,0,0,0,0\n"
            for i, usage in enumerate(usages)]
    return _write(path, [header] + rows)


def test_ferplus_rows_must_have_the_csvs_usage(tmp_path):
    """FER+ labels follow fer2013.csv by position: a csv that is a subset (here the second
    Training row left out) would take the wrong rows' labels, so it is refused, naming both
    files and the first row whose Usage disagrees; a csv that is a prefix still reads."""
    pixels = " ".join(["7"] * 48 * 48)
    ferplus = _ferplus_file(tmp_path / "fer2013new.csv", ["Training", "Training", "PublicTest", "PrivateTest"])
    prefix = _write(tmp_path / "prefix.csv", ["emotion,pixels,Usage\n"] +
                    [f"0,{pixels},Training\n", f"0,{pixels},Training\n"])
    assert read_fer2013(prefix, ferplus=ferplus).labels.tolist() == [3, 6]
    subset = _write(tmp_path / "subset.csv", ["emotion,pixels,Usage\n"] +
                    [f"0,{pixels},{usage}\n" for usage in ("Training", "PublicTest", "PrivateTest")])
    for split in ("PublicTest", "Training"):  # every row is checked, whichever split is read
        with pytest.raises(DataError, match="exact csv") as info:
            read_fer2013(subset, split=split, ferplus=ferplus)
        message = str(info.value)
        assert str(ferplus) in message and str(subset) in message
        assert "line 3 says Usage 'Training'" in message and "row 2, line 3) says 'PublicTest'" in message
    longer = _write(tmp_path / "longer.csv", ["emotion,pixels,Usage\n"] + [
        f"0,{pixels},{usage}\n" for usage in ("Training", "Training", "PublicTest", "PrivateTest", "PrivateTest")])
    with pytest.raises(DataError, match="has 4 rows but .*longer.csv has more"):
        read_fer2013(longer, ferplus=ferplus)
    no_usage = _write(tmp_path / "no_usage.csv", ["Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,"
                                                  "contempt,unknown,NF\n", "fer0000000.png,10,0,0,0,0,0,0,0,0,0\n"])
    with pytest.raises(DataError, match="missing column usage in"):
        read_fer2013(prefix, ferplus=no_usage)


@requires(FERPLUS_CSV)
def test_ferplus_refuses_a_subset_of_the_real_csv(tmp_path, fer_lines):
    """The real FER+ file with 100 rows of each split of the real csv: row 101 is PublicTest
    in the csv but Training in FER+ (the tester's 600/150/150 case, smaller)."""
    subset = _write(tmp_path / "fer2013.csv", fer_lines)
    with pytest.raises(DataError, match=r"line 102 says Usage 'Training' but .*row 101, line 102\) says "
                                        r"'PublicTest'.*35,887 rows of fer2013.csv in order"):
        read_fer2013(subset, split="PublicTest", ferplus=FERPLUS_CSV)
    prefix = _write(tmp_path / "prefix.csv", fer_lines[:101])  # the csv's first 100 rows: all Training
    assert len(read_fer2013(prefix, ferplus=FERPLUS_CSV)) == (read_ferplus_labels(FERPLUS_CSV)[:100] >= 0).sum()


def test_a_byte_order_mark_keeps_the_first_column(tmp_path, fer_lines):
    """Excel and Notepad save csvs with a UTF-8 byte-order mark before the header; the emotion
    column must keep its name (plain and gzipped, and the FER+ file's Usage column too)."""
    bom = "\ufeff"
    path = _write(tmp_path / "bom.csv", [bom + fer_lines[0], *fer_lines[1:]])
    happy = read_fer2013(path, expression="happy")
    assert happy.labels is not None and len(happy) == len(_expected(fer_lines, "Training", 3))
    gz_path = tmp_path / "bom.csv.gz"
    gz_path.write_bytes(gzip.compress(path.read_bytes()))
    assert (read_fer2013(gz_path).labels == read_fer2013(path).labels).all()
    votes = "neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"
    ferplus = tmp_path / "fer2013new.csv"
    ferplus.write_text(f"{bom}Usage,Image name,{votes}\nTraining,fer0000000.png,0,9,0,0,0,0,0,0,1,0\n",
                       encoding="utf-8")
    assert list(read_ferplus_labels(ferplus)) == [3]


def test_image_folder_names_match_in_any_case_and_unread_ones_are_named(tmp_path, capsys):
    root = face_folder(tmp_path / "faces", {"train/Happy": 2, "train/sad": 1, "train/happiness": 3})
    data = read_fer2013(root)
    assert sorted(data.labels.tolist()) == [3, 3, 4]  # Happy is happy; happiness is not read
    err = capsys.readouterr().err
    assert "skipped happiness: not an expression" in err and "angry, disgust, fear, happy" in err
    assert "no images for angry, disgust, fear, surprise, neutral" in err


def test_a_training_splits_fingerprint_ignores_held_out_images(tmp_path):
    """A Training run reads train/ alone: adding test/ must not make its data "other data"."""
    root = face_folder(tmp_path / "faces", {"train/happy": 2})
    before = dataset_fingerprint(root, ("Training",))
    assert before == dataset_fingerprint(root)  # a train/-only folder hashes as it always did
    face_folder(root, {"test/happy": 1})
    assert dataset_fingerprint(root, ("Training",)) == before
    assert dataset_fingerprint(root, ("PublicTest",)) != before and dataset_fingerprint(root) != before


def test_missing_splits_of_a_folder_and_a_csv(tmp_path, fer_lines):
    root = face_folder(tmp_path / "faces", {"train/happy": 1})
    assert missing_splits(root, SPLITS) == ["PublicTest", "PrivateTest"]
    face_folder(root, {"test/sad": 1})
    assert missing_splits(root, SPLITS) == []
    assert missing_splits(_write(tmp_path / "all.csv", fer_lines), SPLITS) == []
    assert missing_splits(_write(tmp_path / "train.csv", fer_lines[:50]), SPLITS) == ["PublicTest", "PrivateTest"]


def test_a_csv_without_its_header_row_is_named_in_a_line(tmp_path, fer_lines):
    with pytest.raises(DataError) as error:
        read_fer2013(_write(tmp_path / "noheader.csv", fer_lines[1:]))
    message = str(error.value)
    assert len(message) < 300, message  # not the first row's 2,304 pixel values
    assert "missing column pixels" in message and "header emotion,pixels,Usage" in message


def test_a_pixel_value_too_big_for_an_integer_names_the_row(tmp_path):
    """A malformed row with a value past 2**31 (digits run together) was an OverflowError traceback."""
    pixels = " ".join(["7"] * 2303 + ["3000000000"])
    path = _write(tmp_path / "overflow.csv", ["emotion,pixels,Usage\n", f"0,{' '.join(['7'] * 2304)},Training\n",
                                              f"0,{pixels},Training\n"])
    with pytest.raises(DataError, match=r"overflow.csv, line 3: pixel values must be integers 0-255"):
        read_fer2013(path)


def test_an_image_past_pils_size_limit_is_named_not_a_traceback(tmp_path):
    """A header claiming 20000x20000 pixels (a huge scan, or a decompression bomb): PIL raises its
    DecompressionBombError, which is no OSError, so a folder dataset with one ended in a traceback."""
    import struct
    import zlib

    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", 20000, 20000)  # IHDR's width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "huge.png").write_bytes(bytes(data))
    with pytest.raises(DataError, match="huge.png: not a readable image .*delete or replace it"):
        read_image_folder(tmp_path / "imgs", size=32, channels=1)


def test_expression_on_a_plain_image_folder_says_what_to_do(tmp_path):
    """`train --data my_faces --expression happy` on a folder of photos said only '--expression
    needs FER2013 data; my_faces looks like folder': neither that an image folder works when laid
    out by expression nor that dropping --expression trains on it."""
    plain = face_folder(tmp_path / "my_faces", {".": 3})
    with pytest.raises(DataError) as raised:
        load_dataset(plain, expression="happy")
    message = str(raised.value)
    assert "drop --expression" in message and "train/<expression>/" in message and "looks like" not in message
