"""read_photo on real photos, on every image mode people's files come in, and on
files that are not photos at all."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from editor.edit_mark import is_marked_edit
from editor.photo import MAX_FILE_BYTES, MAX_PIXELS, MAX_READ_BYTES, Photo, PhotoError, read_photo
from editor.photo_output import save_photo, to_pil

from .conftest import PHOTOS, requires

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (12, 20, 3), dtype=np.uint8)  # [H, W, 3]
ALPHA = RNG.integers(0, 256, (12, 20), dtype=np.uint8)
GREY = RNG.integers(0, 256, (12, 20), dtype=np.uint8)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def check_rgb(photo: Photo, height: int, width: int) -> None:
    assert photo.rgb.shape == (height, width, 3)
    assert photo.rgb.dtype == np.uint8


@requires(PHOTOS)
def test_real_jpeg_from_path_and_bytes():
    path = PHOTOS / "fr_obama.jpg"
    photo = read_photo(path)
    check_rgb(photo, 1137, 910)
    assert photo.alpha is None and photo.name == "fr_obama.jpg"
    assert 60 < photo.rgb.mean() < 200  # a real picture, not a blank
    from_bytes = read_photo(path.read_bytes())
    assert from_bytes.name == "photo"
    np.testing.assert_array_equal(from_bytes.rgb, photo.rgb)
    from_str = read_photo(str(path), name="upload.jpg")
    assert from_str.name == "upload.jpg"


def test_exif_orientation_is_applied():
    # Stored 40 wide, 20 high, red on the left half; Orientation 6 means "rotate
    # 90 degrees clockwise to view", so the viewer sees 20 wide, 40 high, red on top.
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = read_photo(encode(Image.fromarray(stored), "JPEG", exif=exif, quality=95))
    check_rgb(photo, 40, 20)
    top, bottom = photo.rgb[:16].reshape(-1, 3).mean(0), photo.rgb[24:].reshape(-1, 3).mean(0)
    assert top[0] > 200 and top[2] < 50
    assert bottom[2] > 200 and bottom[0] < 50


def camera_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a camera writes it: make and model, exposure and date in the Exif IFD, a GPS position."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Canon", "EOS R5", orientation
    exif.get_ifd(0x8769).update({0x9003: "2024:05:01 10:00:00", 0x829A: (1, 250)})
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)
    exif[0x0100], exif[0x0101] = 6000, 4000  # the camera's size, kept by a resized copy
    exif.get_ifd(0x8769).update({0xA002: 6000, 0xA003: 4000})
    return exif


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_an_edit_is_saved_with_the_cameras_exif_upright_without_gps_and_tagged_srgb(tmp_path, suffix):
    photo = read_photo(encode(Image.fromarray(RGB), "JPEG", exif=camera_exif(orientation=6), quality=95))
    assert photo.rgb.shape[:2] == RGB.shape[1::-1]  # turned upright
    saved = Image.open(save_photo(to_pil(photo, photo.rgb), tmp_path / f"edited{suffix}", exif=photo.exif))
    exif = saved.getexif()
    assert (exif[0x010F], exif[0x0110]) == ("Canon", "EOS R5")  # the camera's tags stay
    assert exif.get_ifd(0x8769)[0x9003] == "2024:05:01 10:00:00"  # with the date taken
    assert exif[0x0112] == 1  # the pixels are upright: a viewer must not turn them again
    assert not exif.get_ifd(0x8825) and 0x8825 not in exif  # no GPS position in a photo made to share
    assert exif[0x0131] == "expression-editor"
    assert not {0x0100, 0x0101} & set(exif) and not {0xA002, 0xA003} & set(exif.get_ifd(0x8769))  # stale sizes go
    profile = ImageCms.ImageCmsProfile(io.BytesIO(saved.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)  # the pixels are sRGB, and say so
    np.testing.assert_array_equal(read_photo(saved).rgb.shape, photo.rgb.shape)  # and read back upright


def test_the_maker_note_is_dropped_and_an_oversized_exif_is_not_kept(tmp_path):
    exif = camera_exif()
    exif.get_ifd(0x8769)[0x927C] = b"private" * 100  # a camera maker's note
    photo = read_photo(encode(Image.fromarray(RGB), "JPEG", exif=exif, quality=95))
    saved = Image.open(save_photo(to_pil(photo, photo.rgb), tmp_path / "edited.jpg", exif=photo.exif)).getexif()
    assert saved[0x0110] == "EOS R5" and 0x927C not in saved.get_ifd(0x8769)
    huge = camera_exif()
    huge[0x010E] = "x" * 70_000  # ImageDescription: more than a JPEG's EXIF segment holds
    photo = read_photo(encode(Image.fromarray(RGB), "PNG", exif=huge))
    assert photo.exif == b""
    save_photo(to_pil(photo, photo.rgb), tmp_path / "edited.jpg", exif=photo.exif)  # saves, without it


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_iphone_heic_and_avif_photos_are_read_with_their_exif(tmp_path, fmt):
    exif = camera_exif(orientation=1)
    y, x = np.mgrid[0:48, 0:64]
    smooth = np.dstack([x * 4, y * 5, 255 - x * 2]).astype(np.uint8)  # lossy codecs keep a gradient, not noise
    data = encode(Image.fromarray(smooth), fmt, quality=95, exif=exif.tobytes())
    assert data[4:8] == b"ftyp"  # the container iPhones write (HEIC), and AVIF's
    photo = read_photo(data, name=f"IMG_0001.{fmt.lower()}")
    assert photo.rgb.shape == smooth.shape and np.abs(photo.rgb.astype(int) - smooth).mean() < 6
    saved = Image.open(save_photo(to_pil(photo, photo.rgb), tmp_path / "edited.jpg", exif=photo.exif)).getexif()
    assert saved[0x0110] == "EOS R5" and 0x8825 not in saved


def test_a_heic_that_cannot_be_decoded_says_to_export_a_jpeg():
    fake = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(PhotoError, match="HEIC/AVIF photo this installation cannot decode; export it as JPEG"):
        read_photo(fake, name="IMG_0002.HEIC")


def test_a_tiffs_own_tags_are_not_taken_for_exif():
    photo = read_photo(encode(Image.fromarray(RGB), "TIFF", compression="tiff_lzw"))
    assert photo.exif == b""  # its tags say how its strips are stored, nothing about a camera


def test_a_photo_without_exif_or_with_broken_exif_saves_with_only_the_editors_mark(tmp_path):
    plain = read_photo(encode(Image.fromarray(RGB), "PNG"))
    assert plain.exif == b""
    for suffix in (".png", ".jpg", ".webp"):  # every edit says it is one (edit_mark), and nothing else
        saved = save_photo(to_pil(plain, plain.rgb), tmp_path / f"plain{suffix}")
        assert dict(Image.open(saved).getexif()) == {0x0131: "expression-editor"} and is_marked_edit(saved)
    Image.fromarray(RGB).save(tmp_path / "camera.jpg", exif=camera_exif())  # a camera's photo: no edit
    assert not is_marked_edit(tmp_path / "camera.jpg") and not is_marked_edit(tmp_path / "none.png")
    broken = encode(Image.fromarray(RGB), "JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f", quality=95)
    photo = read_photo(broken)  # unreadable EXIF costs the metadata, not the photo
    assert photo.exif == b"" and photo.rgb.shape == RGB.shape


def test_rgba_png_keeps_alpha_apart_and_to_pil_restores_it(tmp_path):
    photo = read_photo(encode(Image.fromarray(np.dstack([RGB, ALPHA]), "RGBA"), "PNG"))
    np.testing.assert_array_equal(photo.rgb, RGB)
    np.testing.assert_array_equal(photo.alpha, ALPHA)
    image = to_pil(photo, 255 - photo.rgb)
    assert image.mode == "RGBA"
    saved = read_photo(save_photo(image, tmp_path / "edited.png"))
    np.testing.assert_array_equal(saved.rgb, 255 - RGB)
    np.testing.assert_array_equal(saved.alpha, ALPHA)
    # JPEG has no alpha: saved over white, as RGB.
    assert Image.open(save_photo(image, tmp_path / "edited.jpg")).mode == "RGB"


def test_la_grey_with_alpha():
    photo = read_photo(encode(Image.fromarray(np.dstack([GREY, ALPHA]), "LA"), "PNG"))
    np.testing.assert_array_equal(photo.rgb, np.repeat(GREY[:, :, None], 3, axis=2))
    np.testing.assert_array_equal(photo.alpha, ALPHA)


def test_palette_with_transparency():
    indices = (np.arange(12 * 20).reshape(12, 20) % 3).astype(np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette([10, 20, 30, 200, 100, 50, 0, 255, 0] + [0] * (256 * 3 - 9))
    photo = read_photo(encode(image, "PNG", transparency=0))
    np.testing.assert_array_equal(photo.rgb[indices == 1], np.tile([200, 100, 50], ((indices == 1).sum(), 1)))
    np.testing.assert_array_equal(photo.rgb[indices == 2], np.tile([0, 255, 0], ((indices == 2).sum(), 1)))
    np.testing.assert_array_equal(photo.alpha, np.where(indices == 0, 0, 255))
    # Without a transparent index a palette image has no alpha.
    assert read_photo(encode(image, "PNG")).alpha is None


def test_grey_l_becomes_three_equal_channels():
    photo = read_photo(encode(Image.fromarray(GREY, "L"), "PNG"))
    np.testing.assert_array_equal(photo.rgb, np.repeat(GREY[:, :, None], 3, axis=2))
    assert photo.alpha is None


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_grey_scales_to_8_bit(fmt):
    deep = (np.arange(12 * 20).reshape(12, 20) * 273).astype(np.uint16)  # 0 .. 65247
    photo = read_photo(encode(Image.fromarray(deep), fmt))
    np.testing.assert_array_equal(photo.rgb[:, :, 0], np.rint(deep / 257).astype(np.uint8))
    np.testing.assert_array_equal(photo.rgb[:, :, 0], photo.rgb[:, :, 2])
    assert photo.notes == ("photo has 16 bits per channel; it is edited, and written, at 8 bits per channel",)


def test_a_16_bit_colour_png_says_it_is_read_at_8_bits():
    import cv2

    deep = (np.arange(12 * 20 * 3).reshape(12, 20, 3) * 91).astype(np.uint16)
    ok, png = cv2.imencode(".png", deep)  # PIL cannot write 16-bit RGB; OpenCV can
    assert ok
    photo = read_photo(png.tobytes(), name="master.png")
    assert photo.notes == ("master.png has 16 bits per channel; it is edited, and written, at 8 bits per channel",)
    assert read_photo(encode(Image.fromarray(GREY, "L"), "PNG"), name="eight.png").notes == ()


def test_float_image_in_0_1():
    values = np.linspace(0, 1, 12 * 20, dtype=np.float32).reshape(12, 20)
    photo = read_photo(encode(Image.fromarray(values, "F"), "TIFF"))
    np.testing.assert_array_equal(photo.rgb[:, :, 1], np.rint(values * 255).astype(np.uint8))


def test_cmyk():
    cmyk = np.zeros((12, 20, 4), np.uint8)
    cmyk[:, :10, 0] = 255  # cyan
    cmyk[:, 10:, 3] = 255  # black
    lossless = read_photo(encode(Image.fromarray(cmyk, "CMYK"), "TIFF"))
    np.testing.assert_array_equal(lossless.rgb[0, 0], [0, 255, 255])
    np.testing.assert_array_equal(lossless.rgb[0, -1], [0, 0, 0])
    jpeg = read_photo(encode(Image.fromarray(cmyk, "CMYK"), "JPEG", quality=95))
    check_rgb(jpeg, 12, 20)
    np.testing.assert_allclose(jpeg.rgb[6, 2], [0, 255, 255], atol=12)


def test_webp_lossless_with_alpha():
    photo = read_photo(encode(Image.fromarray(np.dstack([RGB, ALPHA]), "RGBA"), "WEBP", lossless=True, exact=True))
    np.testing.assert_array_equal(photo.rgb, RGB)
    np.testing.assert_array_equal(photo.alpha, ALPHA)
    lossy = read_photo(encode(Image.fromarray(RGB), "WEBP", quality=90))
    check_rgb(lossy, 12, 20)


def test_embedded_srgb_profile_keeps_colours():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo = read_photo(encode(Image.fromarray(RGB), "PNG", icc_profile=profile))
    assert np.abs(photo.rgb.astype(int) - RGB).max() <= 2


def test_numpy_and_pil_inputs():
    np.testing.assert_array_equal(read_photo(RGB).rgb, RGB)
    grey = read_photo(GREY)
    np.testing.assert_array_equal(grey.rgb, np.repeat(GREY[:, :, None], 3, axis=2))
    rgba = read_photo(np.dstack([RGB, ALPHA]), name="layer.png")
    np.testing.assert_array_equal(rgba.alpha, ALPHA)
    assert rgba.name == "layer.png"
    np.testing.assert_array_equal(read_photo(Image.fromarray(RGB)).rgb, RGB)
    with pytest.raises(PhotoError, match="8-bit"):
        read_photo(RGB.astype(np.float32))


@pytest.mark.parametrize("content, expected", [
    (b"", "photo.jpg is empty"),
    (b"Dear team, the photos are attached.\n", "photo.jpg is not an image we can read (it is a text file)"),
    (bytes(RNG.integers(0, 256, 4000, dtype=np.uint8)), "photo.jpg is not an image we can read"),
])
def test_not_a_photo(tmp_path, content, expected):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(PhotoError, match=r"choose a photo file \(JPEG, PNG, WebP, HEIC") as caught:
        read_photo(path)
    assert str(caught.value).startswith(expected)


@requires(PHOTOS)
def test_truncated_jpeg():
    data = (PHOTOS / "fr_obama.jpg").read_bytes()
    with pytest.raises(PhotoError, match=r"^cut\.jpg is damaged or incomplete .*try the original file again"):
        read_photo(data[: len(data) // 2], name="cut.jpg")


def test_missing_file(tmp_path):
    with pytest.raises(PhotoError, match="nowhere.png: no such file"):
        read_photo(tmp_path / "nowhere.png")


def png_claiming(width: int, height: int) -> bytes:
    """A 60-byte PNG whose header claims width x height pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
            + chunk(b"IEND", b""))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [7_000, 100_000])  # over MAX_PIXELS; over PIL's own limit (2x)
def test_decompression_bomb_is_refused_before_decoding(side):
    assert side * side > MAX_PIXELS
    with pytest.raises(PhotoError, match=r"^bomb\.png is too large .*the limit is 40 megapixels"):
        read_photo(png_claiming(side, side), name="bomb.png")


@requires(PHOTOS)
def test_max_pixels_is_a_parameter():
    with pytest.raises(PhotoError, match=r"too large \(910x1137 pixels; the limit is 0.5 megapixels\)"):
        read_photo(PHOTOS / "fr_obama.jpg", max_pixels=500_000)
    with pytest.raises(PhotoError, match="too large"):
        read_photo(np.zeros((1000, 1000, 3), np.uint8), max_pixels=500_000)


def test_multi_page_tiff_says_only_page_1_is_read():
    pages = [Image.fromarray(np.full((12, 20, 3), value, np.uint8)) for value in (10, 120, 240)]
    photo = read_photo(encode(pages[0], "TIFF", save_all=True, append_images=pages[1:]), name="scan.tif")
    assert photo.notes == ("scan.tif has 3 pages; only page 1 is read and edited",)
    assert (photo.rgb == 10).all()
    assert read_photo(encode(pages[1], "TIFF"), name="one.tif").notes == ()  # a single page needs no note
    gif = encode(pages[0], "GIF", save_all=True, append_images=pages[1:], duration=100)
    assert read_photo(gif, name="wave.gif").notes == ("wave.gif is animated (3 frames); only the first frame is "
                                                      "read and edited",)


def test_svg_is_named_as_unsupported(tmp_path):
    path = tmp_path / "logo.svg"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n')
    with pytest.raises(PhotoError, match=r"^logo\.svg is not an image we can read \(an SVG drawing: SVG is not "
                                         r"supported, export it as PNG first\)"):
        read_photo(path)


def test_the_upload_cap_admits_every_photo_within_the_pixel_limit():
    """The README promises 40 megapixels: the largest plain file of that size, an
    uncompressed 8-bit RGBA BMP (8000x5000, 4 bytes a pixel, 138-byte header), fits the cap."""
    assert 8000 * 5000 <= MAX_PIXELS
    assert MAX_FILE_BYTES >= 138 + 4 * MAX_PIXELS
    bmp = encode(Image.new("RGB", (3464, 2598)), "BMP")  # 9 MP: 27 MB, over the old 25 MB cap
    assert 25 * 2**20 < len(bmp) <= MAX_FILE_BYTES


def test_a_file_too_large_for_a_photo_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """`expression-editor edit` on a video read all of it into memory before any check. (A sparse
    file: nothing is written; and reading it is made to fail, so the test never reads 5 GB.)"""
    from pathlib import Path

    path = tmp_path / "holiday.mov"
    with open(path, "wb") as f:
        f.truncate(5 * 10**9)

    def no_read(self):
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(Path, "read_bytes", no_read)
    with pytest.raises(PhotoError, match=r"^holiday\.mov is too large a file for a photo \(5,000 MB; the limit is "
                                         r"537 MB, .*\); choose a photo file .*, or save this one smaller"):
        read_photo(path)
    # Within it: every upload the page takes, and a 16-bit RGBA TIFF at the pixel limit (8 bytes a pixel).
    assert MAX_READ_BYTES >= MAX_FILE_BYTES and MAX_READ_BYTES >= 8 * MAX_PIXELS + 1_000_000


def test_a_grey_photo_is_saved_grey_and_a_colour_one_in_colour(tmp_path):
    """A black-and-white photo comes back one-channel (no RGB profile on it); the smallest colour
    anywhere keeps a photo RGB; a grey photo with transparency keeps it (LA) or goes over white."""
    grey = read_photo(encode(Image.fromarray(GREY, "L"), "JPEG", quality=95))
    saved = Image.open(save_photo(to_pil(grey, grey.rgb), tmp_path / "grey.jpg"))
    assert saved.mode == "L" and "icc_profile" not in saved.info
    png = Image.open(save_photo(to_pil(grey, grey.rgb), tmp_path / "grey.png"))
    assert png.mode == "L" and np.array_equal(np.asarray(png), grey.rgb[:, :, 0])
    tinted = grey.rgb.copy()
    tinted[0, 0, 2] ^= 1
    assert Image.open(save_photo(to_pil(grey, tinted), tmp_path / "tinted.png")).mode == "RGB"
    with_alpha = read_photo(encode(Image.fromarray(np.dstack([GREY, ALPHA]), "LA"), "PNG"))
    image = to_pil(with_alpha, with_alpha.rgb)
    assert image.mode == "LA"
    np.testing.assert_array_equal(read_photo(save_photo(image, tmp_path / "la.png")).alpha, ALPHA)
    assert Image.open(save_photo(image, tmp_path / "la.jpg")).mode == "L"


def test_the_page_download_of_a_grey_photo_is_grey(tmp_path):
    from editor.page_images import write_download
    from editor.scratch import Scratch

    scratch = Scratch(parent=tmp_path / "scratch")
    rgb = np.repeat(GREY[:, :, None], 3, axis=2)
    for fmt, alpha, mode in [("PNG", None, "L"), ("JPEG", None, "L"), ("PNG", ALPHA, "LA"), ("JPEG", ALPHA, "L")]:
        path = write_download(scratch, tmp_path, rgb, "edited", fmt, alpha=alpha)
        assert Image.open(path).mode == mode, (fmt, alpha is not None)
    assert Image.open(write_download(scratch, tmp_path, RGB, "colour", "PNG")).mode == "RGB"
