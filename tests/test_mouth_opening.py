"""Parting the photo's lips and filling what opens between them (editor/motion.parted_flow,
editor/mouth_opening.py, change_to_photo.apply_change)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from editor.motion import CAP, INNER_LOWER, INNER_UPPER, landing, landmark_flow, parted_flow, seam_weight
from editor.mouth_darkening import TEETH_DEPTH, keep_own_teeth
from editor.mouth_colour import TEETH_SKIN, fill_colour, teeth_colour
from editor.mouth_limits import held_mouth
from editor.mouth_opening import (CLEAN, HIGHLIGHT, OPEN_GAP, THIN_GAP, MouthOpening, fill_weight, mouth_opening,
                                  polygon_area)
from editor.thin_parts import without_thin
from editor.change_to_photo import apply_change
from editor.transfer import FaceChange, face_change, warp_crop


def _closed_mouth_face() -> np.ndarray:
    """68 points in the iBUG 300-W order in a 48x48 crop: eyes and brows above, the jaw round the
    chin, and closed lips centred on (24, 36): the outer lips 3 px above and below, the inner
    ones touching (0.1 px apart)."""
    points = np.zeros((68, 2))
    points[0:17] = np.column_stack([np.linspace(6, 42, 17), 20 + 22 * np.sin(np.linspace(0, np.pi, 17))])
    points[17:27] = np.column_stack([np.linspace(10, 38, 10), np.full(10, 14.0)])
    points[27:36] = np.column_stack([np.r_[np.full(4, 24.0), np.linspace(20, 28, 5)], np.r_[np.linspace(18, 27, 4), np.full(5, 29.0)]])
    points[36:48] = np.column_stack([np.r_[np.linspace(11, 19, 6), np.linspace(29, 37, 6)], np.full(12, 19.0)])
    upper = np.linspace(16, 32, 7)  # 48 (left corner) .. 54 (right corner)
    points[48:55] = np.column_stack([upper, 36 - 3 * np.sin(np.linspace(0, np.pi, 7))])
    points[55:60] = np.column_stack([upper[5:0:-1], 36 + 3 * np.sin(np.linspace(0, np.pi, 7))[5:0:-1]])
    inner = np.array([18.0, 21.0, 24.0, 27.0, 30.0])  # 60 .. 64
    points[60:65] = np.column_stack([inner, [36.0, 35.95, 35.95, 35.95, 36.0]])
    points[65:68] = np.column_stack([inner[3:0:-1], np.full(3, 36.05)])
    return points


def _opened(points: np.ndarray, by: float = 2.5) -> np.ndarray:
    """The same face with its lips parted: the upper lip `by` px up, the lower lip and chin down."""
    target = points.copy()
    target[[49, 50, 51, 52, 53, 61, 62, 63], 1] -= by
    target[[55, 56, 57, 58, 59, 65, 66, 67], 1] += by
    target[4:13, 1] += by / 2
    return target


def _lips_render(points: np.ndarray, teeth: float = 230.0) -> np.ndarray:
    """A grey 48x48 render: skin 150, dark lips (outer polygon 60), and `teeth` between the inner lips."""
    render = np.full((48, 48), 150, np.uint8)
    cv2.fillPoly(render, [np.rint(points[48:60] * 16).astype(np.int32)], 60, lineType=cv2.LINE_AA, shift=4)
    cv2.fillPoly(render, [np.rint(points[60:68] * 16).astype(np.int32)], int(teeth), lineType=cv2.LINE_AA, shift=4)
    return render


def test_landing_inverts_a_backward_flow():
    rng = np.random.default_rng(0)
    flow = np.zeros((48, 48, 2), np.float32)
    flow[..., 0], flow[..., 1] = 1.5, -2.0  # out(x) = image(x + (1.5, -2))
    points = rng.uniform(10, 38, (6, 2))
    assert np.allclose(landing(points, flow), points - [1.5, -2.0], atol=1e-4)


def test_seam_weight_is_one_above_the_upper_lip_zero_below_the_lower():
    top = np.array([[16.0, 36.0], [20.0, 34.0], [24.0, 34.0], [28.0, 34.0], [32.0, 36.0]])
    bottom = np.array([[16.0, 36.0], [20.0, 38.0], [24.0, 38.0], [28.0, 38.0], [32.0, 36.0]])
    weight = seam_weight(top, bottom, rigid=False)
    assert weight[33, 24] == 1.0 and weight[39, 24] == 0.0
    assert 0.3 < weight[36, 24] < 0.7  # between the lips: a blend (the fill covers it)
    # Beyond the corners the step widens, so the cheeks blend smoothly instead of tearing.
    assert np.abs(np.diff(weight[:, 44])).max() < np.abs(np.diff(weight[:, 24])).max() / 4
    # Rigid teeth (the default): the upper lip's field reaches down to the lower lip, then steps.
    rigid = seam_weight(top, bottom)
    assert rigid[33, 24] == 1.0 and rigid[37, 24] == 1.0 and rigid[39, 24] == 0.0
    assert np.abs(np.diff(rigid[:, 44])).max() < np.abs(np.diff(rigid[:, 24])).max() / 4


def test_parted_flow_opens_touching_lips_that_one_smooth_flow_stretches():
    source = _closed_mouth_face()
    target = _opened(source)
    flow, lips = parted_flow(source, target)
    gap = lips[[7, 6, 5], 1] - lips[[1, 2, 3], 1]  # lower inner lip minus upper, at 67/61, 66/62, 65/63
    assert gap.min() > 3.5  # parted by nearly the 5 px the renders' lips moved
    assert np.hypot(flow[..., 0], flow[..., 1]).max() <= CAP + 1e-5
    # Where each piece lands, it reads the photo's lip: just above the gap the upper lip, below it the lower.
    photo = np.zeros((48, 48), np.float32)
    photo[:36] = 200.0  # above the seam: bright; below: dark
    moved = warp_crop(photo, flow)
    assert moved[int(lips[2, 1]) - 1, 24] > 150 and moved[int(np.ceil(lips[6, 1])) + 1, 24] < 50
    # One smooth flow averages the touching points' opposite moves away: the lips barely part.
    smooth = landmark_flow(source, target)
    seam = landing(source[[62, 66]], smooth)
    assert seam[1, 1] - seam[0, 1] < gap.min() / 2
    # The inner lips' order: 60-64 along the upper lip, 65-67 back along the lower one.
    assert np.all(np.diff(lips[:5, 0]) > 0) and np.all(np.diff(lips[4:, 0]) < 0)
    assert list(INNER_UPPER) == [60, 61, 62, 63, 64] and list(INNER_LOWER) == [60, 67, 66, 65, 64]


def test_mouth_opening_fills_only_new_opening_with_the_targets_mouth():
    source = _closed_mouth_face()
    target = _opened(source)
    flow, lips = parted_flow(source, target)
    render = _lips_render(target, teeth=230.0)
    opening = mouth_opening(lips, source, target, render, mean=150.0, render_mean=150.0, contrast=1.0,
                            highlight=210.0)
    assert opening is not None and opening.opacity == 1.0
    centre = opening.luminance[int(round((lips[2, 1] + lips[6, 1]) / 2)), 24]
    assert 200.0 <= centre <= 210.0  # T's teeth, no brighter than the photo's highlights
    assert polygon_area(opening.polygon) > polygon_area(opening.own) + 10
    # Lips that stay together open nothing.
    still, still_lips = parted_flow(source, source)
    assert mouth_opening(still_lips, source, source, render, mean=150.0, render_mean=150.0, contrast=1.0,
                         highlight=210.0) is None


def test_fill_colour_tints_dark_like_the_lips_and_bright_nearly_grey():
    lips = np.array([30.0, -10.0, -10.0])
    colour = fill_colour(np.array([[40.0, 220.0]]), lips)
    assert np.allclose(colour[0, 0], [70.0, 30.0, 30.0])  # a mouth's inside: the lips' red in full
    assert np.abs(colour[0, 1] - 220.0).max() < 10.0  # teeth: a quarter of it
    assert HIGHLIGHT < 100
    # In shadow: darker than the lips (mean luminance 120), the offset shrinks in proportion, as
    # the same surface's colour does with less light; T's own lips (interior 0) keep it in full.
    shaded = fill_colour(np.array([[40.0, 120.0, 40.0]]), lips, interior=np.array([[1.0, 1.0, 0.0]]), lips_level=120.0)
    assert np.allclose(shaded[0, 0], 40.0 + lips / 3.0) and np.allclose(shaded[0, 2], 40.0 + lips)
    assert np.allclose(shaded[0, 1], 120.0 + lips * (0.25 + 0.75 * 0.5))  # at the lips' level: only the teeth's fade


def test_apply_change_draws_the_opening_at_photo_resolution_and_keeps_the_photos_own_interior():
    scale = 8.0
    to_photo = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    photo = np.full((48 * 8, 48 * 8, 3), 150, np.uint8)
    photo[36 * 8 - 2:36 * 8 + 2, 18 * 8:30 * 8] = (120, 40, 40)  # the closed lips' seam
    polygon = np.array([[18, 36], [21, 34], [24, 34], [27, 34], [30, 36], [27, 38], [24, 38], [21, 38]], np.float32)
    own = np.array([[18, 36], [21, 35.95], [24, 35.95], [27, 35.95], [30, 36], [27, 36.05], [24, 36.05],
                    [21, 36.05]], np.float32)
    luminance = np.full((48, 48), 220.0, np.float32)
    still = np.zeros((48, 48, 2), np.float32)
    change = FaceChange(still, np.zeros((48, 48), np.float32), opening=MouthOpening(polygon, own, luminance))
    out = apply_change(photo, change, to_photo).astype(int)
    inside = out[int(36 * scale) - 8, int(24 * scale)]
    assert inside.mean() > 200 and inside[0] > inside[2]  # teeth, a little warmer than grey
    assert (out[int(33 * scale), int(24 * scale)] == 150).all()  # above the opening: the photo
    # The edge is drawn at photo resolution: from photo to fill within a few photo pixels.
    column = out[int(34 * scale) - 6:int(34 * scale) + 6, int(24 * scale)].mean(axis=1)
    assert column[0] < 155 and column[-1] > 200
    # Where the warp shows what the photo already had between its lips, the photo stays.
    wide_own = polygon.copy()
    kept = apply_change(photo, FaceChange(still, np.zeros((48, 48), np.float32),
                                          opening=MouthOpening(polygon, wide_own, luminance)), to_photo)
    assert np.array_equal(kept[int(36 * scale) - 8, int(24 * scale)], photo[int(36 * scale) - 8, int(24 * scale)])
    changed = np.any(kept != photo, axis=-1).sum()
    assert changed < 0.2 * polygon_area(polygon) * scale ** 2  # its anti-aliased edge, a pixel or two wide


def test_face_change_parts_the_lips_unless_told_not_to():
    source = _closed_mouth_face()
    target = _opened(source)
    s, t = _lips_render(source), _lips_render(target)
    parted = face_change(s, t, s, points=(source, target), reach=5.0)  # the reach this mouth was drawn for
    assert parted.opening is not None
    held = held_mouth(source, target)  # T's mouth as far as skin follows (mouth_limits.py)
    assert np.allclose(parted.flow, parted_flow(source, held, sigma=5.0)[0], atol=1e-5)
    plain = face_change(s, t, s, points=(source, target), mouth_fill=False)
    assert plain.opening is None and np.allclose(plain.flow, landmark_flow(source, held), atol=1e-5)
    # The residual stays out of the opening (the fill shows T there): T's teeth over the photo's
    # lips, as the motion moved them, would brighten it by far more ...
    middle = (int(round((parted.opening.polygon[2, 1] + parted.opening.polygon[6, 1]) / 2)), 24)
    raw = t.astype(np.float32) - warp_crop(s.astype(np.float32), parted.flow)
    assert raw[middle] > 100 and abs(parted.residual[middle]) < raw[middle] / 4
    # ... and without landmarks (optical flow) nothing is filled.
    assert face_change(s, t, s).opening is None


def test_where_the_target_shows_lips_the_photos_own_teeth_are_covered():
    # A smile's wide open mouth (the photo's own teeth between its inner lips) edited to a narrow
    # opening: the cap holds the corners back, so the moved mouth is wider than T's; beside T's
    # opening the photo's teeth ("fangs") get the lips' colour, and inside it they stay the photo's.
    scale = 8.0
    to_photo = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    photo = np.full((48 * 8, 48 * 8, 3), (200, 150, 120), np.uint8)  # skin
    lips_at = np.array([[14, 36], [18, 32], [24, 31], [30, 32], [34, 36], [30, 40], [24, 41], [18, 40]], np.float64)
    cv2.fillPoly(photo, [np.rint(lips_at * scale).astype(np.int32)], (170, 60, 60))  # red lips
    own = np.array([[16, 36], [20, 34], [24, 34], [28, 34], [32, 36], [28, 38], [24, 38], [20, 38]], np.float32)
    cv2.fillPoly(photo, [np.rint(own * scale).astype(np.int32)], (235, 235, 230))  # white teeth
    source = _closed_mouth_face()
    source[48:60], source[60:68] = lips_at[[0, 1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7]], own
    target = source.copy()
    target[60:68, 0] = 24 + (own[:, 0] - 24) * 0.4  # T's opening: 40% as wide, as high
    render = np.full((48, 48), 120.0, np.float32)
    opening = mouth_opening(own, source, target, render, mean=150.0, render_mean=150.0, contrast=1.0,
                            highlight=220.0, cover=True)
    assert opening is not None and opening.interior is not None
    assert opening.interior[:, 0].min() > 18.5 and opening.interior[:, 0].max() < 29.5  # T's narrower inside
    still = np.zeros((48, 48, 2), np.float32)
    out = apply_change(photo, FaceChange(still, np.zeros((48, 48), np.float32), opening=opening), to_photo).astype(int)
    centre, side = out[int(36 * scale), int(24 * scale)], out[int(36 * scale), int(18 * scale)]
    assert np.array_equal(centre, [235, 235, 230])  # inside T's opening: the photo's own teeth
    assert side[0] - side[2] > 60  # beside it: red like the lips, no longer white teeth
    # Without covering, the photo's teeth stay everywhere in its own mouth.
    uncovered = mouth_opening(own, source, target, render, mean=150.0, render_mean=150.0, contrast=1.0,
                              highlight=220.0, cover=False)
    assert uncovered is None  # nothing new opens


def test_a_mouth_that_does_not_move_is_left_as_it_is():
    # An open mouth whose target keeps it: parting and covering must not paint the lips' edges.
    scale = 8.0
    to_photo = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, (48 * 8, 48 * 8, 3)).astype(np.uint8)
    source = _closed_mouth_face()
    source[[61, 62, 63], 1] -= 1.5  # an open mouth, 3 px high
    source[[65, 66, 67], 1] += 1.5
    s = _lips_render(source)
    change = face_change(s, s, s, points=(source, source))
    assert change.opening is not None  # parted enough to fill, ...
    assert np.array_equal(apply_change(photo, change, to_photo), photo)  # ... but nothing to fill


def test_a_slit_is_left_to_the_warp_and_the_fill_fades_in_as_the_lips_part():
    """THIN_GAP, OPEN_GAP: T's mouth squeezed into a slit drew thin lines round small faces'
    mouths; the fill is off below THIN_GAP crop pixels of gap, full past OPEN_GAP, between in part."""
    source = _closed_mouth_face()
    opacities = []
    for by in (0.4, 1.3, 2.5):  # each lip moves `by`: gaps of about 0.8, 2.6 and 5 crop pixels
        target = _opened(source, by)
        _, lips = parted_flow(source, target)
        opening = mouth_opening(lips, source, target, _lips_render(target), mean=150.0, render_mean=150.0,
                                contrast=1.0, highlight=210.0)
        opacities.append(0.0 if opening is None else opening.opacity)
    assert opacities[0] == 0.0 and 0.0 < opacities[1] < 1.0 and opacities[2] == 1.0
    assert THIN_GAP < OPEN_GAP


def _photo_fill_weight(opening: MouthOpening, flow: np.ndarray, scale: float) -> np.ndarray:
    """fill_weight over a photo `scale` times the crop (as change_to_photo.apply_change samples it)."""
    size = flow.shape[0]
    side = int(size * scale)
    to_photo = np.array([[scale, 0.0, (scale - 1) / 2], [0.0, scale, (scale - 1) / 2]])
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    crop_x, crop_y = (xs - (scale - 1) / 2) / scale, (ys - (scale - 1) / 2) / scale
    moved = [cv2.remap(np.ascontiguousarray(flow[..., i]), crop_x, crop_y, cv2.INTER_LINEAR) for i in (0, 1)]
    return fill_weight(opening, to_photo, (0, 0, side, side), xs + scale * moved[0], ys + scale * moved[1])[0]


def test_a_kept_mouth_that_moves_a_little_leaves_no_ring_of_fill_round_it():
    """CLEAN: a mouth the render already shows open, moved by less than a pixel, nearly coincides
    with where the warp puts the photo's own; their edges' difference was a thin ring of fill
    (pale or dark lines round the opening). An opening with nothing of its own kept is filled as it was."""
    source = _closed_mouth_face()
    source[[61, 62, 63], 1] -= 1.5  # open, 3 px high
    source[[65, 66, 67], 1] += 1.5
    target = _opened(source, 0.4)
    flow, lips = parted_flow(source, target)
    opening = mouth_opening(lips, source, target, _lips_render(target), mean=150.0, render_mean=150.0,
                            contrast=1.0, highlight=210.0)
    assert opening is not None and opening.clean == CLEAN > 0
    ring, cleaned = (float(_photo_fill_weight(o, flow, scale=8.0).sum()) / 64  # in crop pixels
                     for o in (replace(opening, clean=0.0), opening))
    assert ring > 0.5 and cleaned < 0.1 * ring
    # The photo's own mouth elsewhere (nothing kept): the new opening, 6 px high, stays filled.
    apart = replace(opening, polygon=_opened(_closed_mouth_face(), 3.0)[60:68].astype(np.float32),
                    own=(source[60:68] + [0.0, -20.0]).astype(np.float32), interior=None)
    still = np.zeros((48, 48, 2), np.float32)
    whole, kept = (float(_photo_fill_weight(o, still, scale=8.0).sum()) / 64 for o in (replace(apart, clean=0.0), apart))
    assert whole > 0.9 * polygon_area(apart.polygon) and kept > 0.95 * whole


def _smile_face(gap: float = 3.0) -> np.ndarray:
    """_closed_mouth_face with its inner lips `gap` px apart: teeth show between them."""
    points = _closed_mouth_face()
    points[65:68, 1] += gap
    points[[55, 56, 57, 58, 59], 1] += gap
    return points


def test_the_photos_teeth_hang_from_the_upper_lip_instead_of_stretching():
    # A smile (teeth between lips 3 px apart) whose lower lip and jaw drop: with rigid teeth the
    # upper lip's field reaches down to the moved lower lip, so each row of the opening shows a
    # point higher up the photo's teeth (less stretched) than when the two lips' fields blend
    # between them, and the new opening below the teeth is left to the fill.
    source = _smile_face(3.0)
    target = source.copy()
    target[[55, 56, 57, 58, 59, 65, 66, 67], 1] += 6.0
    target[4:13, 1] += 3.0
    rows = np.arange(48)
    shown = {}
    for rigid in (True, False):
        flow, lips = parted_flow(source, target, rigid=rigid, sigma=5.0)  # the reach this mouth was drawn for
        assert lips[6, 1] - lips[2, 1] > 4.5  # the moved lips part further either way
        opening = (rows > lips[2, 1]) & (rows < lips[6, 1] - 1)
        shown[rigid] = (rows + flow[:, 24, 1])[opening]  # the photo's row each shows
    assert len(shown[True]) == len(shown[False]) >= 3
    assert np.all(shown[True] < shown[False] - 0.1)


def test_the_photos_own_teeth_are_shaded_not_blackened():
    residual = np.full((48, 48), -150.0, np.float32)
    cavity = np.ones((48, 48), np.float32)
    teeth = np.zeros((48, 48), np.float32)
    teeth[30:34, 16:32] = 1.0
    kept, grown = keep_own_teeth(residual, cavity, teeth, depth=TEETH_DEPTH)
    assert np.all(kept[30:34, 16:32] == -TEETH_DEPTH) and np.all(grown[30:34, 16:32] == 0.0)
    assert np.all(kept[20] == -150.0) and np.all(grown[20] == 1.0)  # elsewhere as it was
    assert np.array_equal(keep_own_teeth(residual + 200.0, None, teeth)[0], residual + 200.0)  # brightening kept


def test_the_fills_teeth_take_the_light_of_the_skin_around_the_mouth():
    # Warm skin round the mouth: the fill's bright teeth are warm too (a neutral grey looked blue
    # beside it), its dark inside still the lips' colour.
    scale = 4.0
    to_photo = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    photo = np.full((192, 192, 3), (210, 150, 110), np.float32)
    source = _closed_mouth_face()
    opening = MouthOpening(source[60:68].astype(np.float32), source[60:68].astype(np.float32),
                           np.full((48, 48), 200.0, np.float32), outer=source[48:60].astype(np.float32),
                           teeth_skin=TEETH_SKIN)
    warmth = teeth_colour(photo, opening, to_photo, (0, 0))
    skin = np.array([210.0, 150.0, 110.0]) - cv2.cvtColor(np.float32([[[210, 150, 110]]]), cv2.COLOR_RGB2GRAY)[0, 0]
    assert np.allclose(warmth, TEETH_SKIN * skin, atol=0.5)
    lips = np.array([30.0, -10.0, -10.0])
    dark, bright = fill_colour(np.array([[40.0, 220.0]]), lips, teeth=warmth)[0]
    assert np.allclose(dark, 40.0 + lips) and np.allclose(bright, 220.0 + warmth)
    assert bright[0] > bright[1] > bright[2]


def test_a_smile_edited_to_an_open_dark_mouth_keeps_its_teeth_above_the_opening():
    # The "missing teeth" of fr_obama's surprise, end to end: the photo shows white teeth between
    # its lips, the target render a dark opening there, the jaw dropped. The teeth stay (shaded by
    # at most TEETH_DEPTH) and the opening shows dark below them; darkened as elsewhere (the cavity
    # grown over them), they go black with it.
    source = _smile_face(3.0)
    target = source.copy()
    target[[55, 56, 57, 58, 59, 65, 66, 67], 1] += 6.0
    target[4:13, 1] += 3.0
    s, t = _lips_render(source, teeth=230.0), _lips_render(target, teeth=20.0)
    scale = 8.0
    to_photo = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    photo = cv2.resize(np.repeat(s[..., None], 3, axis=2), (48 * 8, 48 * 8), interpolation=cv2.INTER_NEAREST)
    column = {}
    for depth in (TEETH_DEPTH, None):
        # (reach 5, as the synthetic smile was drawn for: at 7 its jaw, 3 px below the lips, drags them)
        edited = apply_change(photo, face_change(s, t, s, points=(source, target), teeth_depth=depth, reach=5.0),
                              to_photo)
        column[depth] = edited[35 * 8:44 * 8, 24 * 8, 0].astype(int)  # down the mouth's middle
    kept = column[TEETH_DEPTH]
    teeth = np.flatnonzero(kept >= 230 - TEETH_DEPTH)
    assert len(teeth) >= 2 * 8  # at least two crop pixels of teeth, as bright as the rule allows
    assert kept[teeth[-1]:].min() < 40  # and the dark opening below them
    assert column[None][teeth].max() < 40  # without the rule the same rows are as black as the opening


def test_the_fills_cleaning_treats_every_direction_alike():
    # The cleaning's octagon keeps a band a little wider than 2 radii and removes one a little
    # narrower, along the axes and along the diagonal alike (a square kept diagonal bands only
    # from 2.8 radii on, so it cut pointed corners off square).
    radius = 10.0
    for width, kept in ((2.6 * radius, True), (1.6 * radius, False)):
        for angle in (0.0, 45.0):
            band = np.zeros((201, 201), np.float32)
            centre, (dx, dy) = 100.0, (np.cos(np.radians(angle)), np.sin(np.radians(angle)))
            ys, xs = np.mgrid[0:201, 0:201]
            band[np.abs((xs - centre) * dy - (ys - centre) * dx) <= width / 2] = 1.0
            left = without_thin(band, radius)[100, 100]
            assert (left > 0.9) == kept, (width, angle, left)


def test_a_smile_edited_to_closed_lips_leaves_no_line_of_teeth_between_them():
    # dev100's and fr_obama's sad and neutral: the photo's white teeth, squeezed between lips the
    # motion closes, stayed as a thin white line (the soft render S hardly draws them, so the
    # residual does not darken them); with CLOSE_COVER they take the lips' colour. The target
    # render's closed lips cross (a sliver of a polygon, not an opening).
    source = _smile_face(4.0)
    target = _closed_mouth_face()
    target[[61, 62, 63], 1] += 0.3
    target[[65, 66, 67], 1] -= 0.3
    s, t, shown = _lips_render(source, teeth=90.0), _lips_render(target, teeth=60.0), _lips_render(source, teeth=235.0)
    scale = 8.0
    to_photo = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    photo = cv2.resize(np.repeat(shown[..., None], 3, axis=2), (48 * 8, 48 * 8), interpolation=cv2.INTER_NEAREST)
    photo[..., 1:] = (photo[..., 1:] * 0.8).astype(np.uint8)  # lips and skin reddish
    photo[shown.repeat(8, 0).repeat(8, 1) > 200] = 235  # teeth white
    mouth = (slice(30 * 8, 44 * 8), slice(14 * 8, 34 * 8))
    white = {}
    for close in (True, False):
        change = face_change(s, t, shown, points=(source, target), close_cover=close)
        assert (change.opening is not None and change.opening.closing > 0) == close  # else left to the warp
        white[close] = int((apply_change(photo, change, to_photo)[mouth].min(axis=2) > 200).sum())
    assert white[False] > 0.3 * int((photo[mouth].min(axis=2) > 200).sum())  # the squeezed teeth show
    assert white[True] < 0.2 * white[False]  # covered, but for the staircase edges outside the smooth lips
    # A mouth left as it is stays bit-identical (the cover only as far as the motion closes it).
    assert np.array_equal(apply_change(photo, face_change(s, s, shown, points=(source, source)), to_photo), photo)
