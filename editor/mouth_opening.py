"""A mouth the edit opens: what shows between the photo's parted lips.

The motion (motion.py) parts the photo's lips as the renders' did, but a warp can
only stretch what the photo has: between closed lips that is the lip seam, drawn
out into a blurred pink band that the residual then lightens ("a pink bar of teeth",
Grace Hopper smiling). Face reenactment fills such hidden regions from the driver
instead of stretching (Averbuch-Elor et al. 2017 copy the driving video's mouth
interior); our driver is the target render T, so:

- where: the photo's inner lips (the S render's landmarks 60-67) where the warp
  puts them, a polygon in the output's crop frame, less what the photo already
  showed between its lips (its own teeth stay its own);
- what: T's mouth interior, mapped onto that polygon (an axis-aligned scale and
  shift that takes the moved inner lips to T's), its grey levels carried into the
  photo's as the residual is (the face's mean and contrast), no brighter than the
  photo's own highlights, coloured as the lips are where dark (a mouth's inside)
  and as the light is where bright (teeth; mouth_colour.py);
- and the other way round, where the motion closes a mouth that showed its teeth
  and T's lips are closed: the photo's teeth, wherever the warp squeezed them,
  covered with its lips' colour (CLOSE_COVER).

The lips are drawn at photo resolution (change_to_photo.apply_change) along curves through their
points (lip_outline.py), so their edges stay as sharp as the photo's own (edge_blur.py) even
though what fills them comes from a 48x48 render.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .edge_blur import edge_blur
from .faces import affine_scale
from .lip_outline import CROP_FRAME, lips_mask, rectangle_around, widened
from .lip_seam import SEAM_DEPTH, seam_shade
from .mouth_colour import SHADED_FILL, TEETH_SKIN, fill_colour, lips_colour, mean_colour, teeth_colour
from .mouth_interior import structured_interior
from .thin_parts import without_thin

INNER_LIPS = slice(60, 68)
OUTER_LIPS = slice(48, 60)  # iBUG 300-W: left corner, upper inner lip, right corner, lower inner lip
# Below this many crop pixels of new opening (the moved lips' area less the photo's own), the
# lips hardly part and the warp's seam is left as it is.
MIN_OPENING = 0.5
# A slit is left to the warp: the fill fades in as the parted lips' widest gap grows from THIN_GAP to
# OPEN_GAP crop pixels (T's mouth squeezed into a pixel-high slit drew a white scratch across
# blurry or dark photos' lips; from 1 to 2 it still drew thin dark and white lines round small
# faces' sad and surprise mouths, dev120: docs/transfer_screens.md, 2 to 3.5 the same numbers).
THIN_GAP = 2.0
OPEN_GAP = 3.5
# The fill's grey levels stop at the photo face's HIGHLIGHT percentile (teeth as bright as the
# brightest skin, not the render's white) ...
HIGHLIGHT = 95.0
# Where T's mouth is narrower than the moved lips (the motion's cap holds the corners back: a
# smile edited to surprise), the photo's own teeth showed beside T's opening ("fangs"): cover the
# moved mouth wherever T shows lips, with the lips' colour, and keep T's opening its own width.
COVER_LIPS = True
# A mouth the edit closes (a smile with teeth edited to sad or neutral): the warp squeezes the photo's
# teeth between the moved lips into a sliver under a crop pixel high, a thin white line with crisp
# edges between closed lips (dev100, fr_obama); the moved inner lips there are thinner than CLEAN
# (often crossed), so no fill reached it. With COVER_LIPS, where T closes its lips (their gap under
# T_CLOSED crop pixels, none from T_PARTED: a disgust's slit of teeth stays) the photo's own teeth
# are covered with the lips' colour wherever the motion puts them, however thin, as far as the
# photo's own gap exceeds the moved one (THIN_GAP to OPEN_GAP: a smile kept open is the fill's).
CLOSE_COVER = True
T_CLOSED, T_PARTED = 1.0, 1.5
# ... and the photo's teeth reach past S's inner-lip points (a soft render's lips sit a little inside
# the photo's): the cover reaches CLOSE_MARGIN crop pixels above and below them.
CLOSE_MARGIN = 0.75
# The fill's weight loses what is thinner than 2 x CLEAN crop pixels, both ways (a morphological
# opening, then a closing, with an octagon): where the moved lips and the photo's kept mouth nearly coincide (a
# mouth the render already showed open, moved along), their edges a pixel apart left the fill as
# a thin ring round the opening, pale or dark lines round angry and surprise mouths, and the kept
# mouth's own thin slivers cut lines through the fill (dev090, dev160: docs/transfer_screens.md).
CLEAN = 1.0
# Lips drawn as curves through their landmarks (lip_outline.py), not as polygons: at photo
# resolution the fill's straight edges and angles showed (dev160's angry mouth).
SMOOTH_LIPS = True
# The fill's edge as soft as the photo's own edges around the mouth (edge_blur.py): drawn a pixel
# wide, it was the one crisp thing in a soft photo's face, an opening pasted on (dev120, dev173).
# EDGE_WIDTH: the Gaussian sigma the anti-aliased polygon's edge already has (photo pixels).
MATCH_FOCUS = True
EDGE_WIDTH = 0.5
# T's mouth inside drawn as bands of teeth along the lips over a dark cavity (mouth_interior.py),
# not as its 48x48 pixels upscaled (a mottle of broken teeth and stray white blobs).
STRUCTURED_INSIDE = True


@dataclass(frozen=True)
class MouthOpening:
    """Where an edit parts the photo's lips and what shows there, in crop space (48x48)."""

    polygon: np.ndarray  # [8, 2] float32: the photo's inner lips where the warp puts them (output frame)
    own: np.ndarray  # [8, 2] float32: the photo's inner lips where they are (the photo's frame)
    luminance: np.ndarray  # [S, S] float32: the fill's grey levels in the output frame, photo scale
    opacity: float = 1.0  # in [0, 1]: how far the fill covers the warp (THIN_GAP, OPEN_GAP)
    # [8, 2] float32, output frame: T's inner lips as mapped, inside which T shows its mouth's
    # inside, not its lips; None: the whole polygon is T's inside (COVER_LIPS off).
    interior: np.ndarray | None = None
    outer: np.ndarray | None = None  # [12, 2] float32: the photo's outer lips (its frame), for their colour
    clean: float = 0.0  # crop pixels: the fill's weight loses what is thinner than twice this (CLEAN)
    teeth_skin: float = 0.0  # > 0: bright fill takes this share of the skin's colour round the mouth (TEETH_SKIN)
    smooth: bool = SMOOTH_LIPS  # lips drawn as curves through their points (lip_outline), not polygons
    match_focus: bool = MATCH_FOCUS  # the fill's edge blurred as the photo's round the mouth are (MATCH_FOCUS)
    shaded: bool = SHADED_FILL  # a dark fill's colour shrinks with its luminance (mouth_colour.SHADED_FILL)
    # In [0, 1]: how far the photo's own teeth are covered where T shows lips, however thin the motion
    # squeezed them (CLOSE_COVER; with `interior` only).
    closing: float = 0.0
    target_open: float = 1.0  # in [0, 1]: how far T's own lips part (T_CLOSED to T_PARTED), for the closing cover
    seam: float = 0.0  # the closing cover's seam depth (lip_seam.SEAM_DEPTH; 0: none)
    structured: bool = STRUCTURED_INSIDE  # T's inside drawn as teeth bands and a cavity (mouth_interior.py)


def polygon_area(points: np.ndarray) -> float:
    """The (unsigned) shoelace area of a closed polygon [N, 2]."""
    x, y = np.asarray(points, np.float64).T
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


def lip_gap(inner_lips: np.ndarray) -> float:
    """Crop pixels between the upper inner lip (61-63) and the lower one (67-65) at its widest;
    `inner_lips`: landmarks 60-67 [8, 2]."""
    return float(np.max(inner_lips[[7, 6, 5], 1] - inner_lips[[1, 2, 3], 1]))


def _ramp(gap: float, low: float = THIN_GAP, high: float = OPEN_GAP) -> float:
    """0 for a `gap` up to `low` crop pixels, 1 from `high`, linear between."""
    return float(np.clip((gap - low) / (high - low), 0.0, 1.0))


def mouth_opening(lips: np.ndarray, source_points: np.ndarray, target_points: np.ndarray,
                  target: np.ndarray, *, mean: float, render_mean: float, contrast: float,
                  highlight: float, cover: bool = COVER_LIPS, teeth_skin: float = TEETH_SKIN,
                  smooth: bool = SMOOTH_LIPS, close: bool = CLOSE_COVER, seam: float = SEAM_DEPTH) -> MouthOpening | None:
    """The opening an edit makes, or None where the lips do not part by MIN_OPENING crop pixels
    more than the photo's. `lips`: the photo's inner lips where the motion puts them [8, 2]
    (motion.parted_flow's); `source_points`, `target_points`: S's and T's landmarks [68, 2];
    `target`: T's grey levels [S, S]; `mean`, `render_mean`, `contrast`: the photo face's mean,
    S's, and their contrast ratio; `highlight`: the brightest the fill may be (photo grey levels);
    `cover`: see COVER_LIPS (then an opening is made wherever the lips stay parted, new or not);
    `teeth_skin`: see TEETH_SKIN (0: TEETH_TINT of the lips' colour); `smooth`: see SMOOTH_LIPS;
    `close`: see CLOSE_COVER (with `cover` only); `seam`: lip_seam.SEAM_DEPTH (with `close` only)."""
    own = np.asarray(source_points, np.float32)[INNER_LIPS]
    polygon = np.asarray(lips, np.float32)
    opacity = _ramp(lip_gap(polygon))
    inner = np.asarray(target_points, np.float64)[INNER_LIPS]
    target_open = _ramp(lip_gap(inner), T_CLOSED, T_PARTED)
    closing = max(_ramp(lip_gap(own)) - opacity, 0.0) * (1.0 - target_open) if cover and close else 0.0
    if (opacity == 0.0 and closing == 0.0) or (not cover and polygon_area(polygon) - polygon_area(own) < MIN_OPENING):
        return None
    # Output crop pixel x shows T's mouth at (ax * x + bx, ay * y + by): the axis-aligned fit that
    # takes the moved inner lips onto T's (a full affine shears on 8 nearly collinear points);
    # covering, x only shifted (centre on centre), so a narrower mouth stays narrower.
    scale_shift = [np.polyfit(polygon[:, i].astype(np.float64), inner[:, i], 1) for i in (0, 1)]
    if cover:
        scale_shift[0] = np.array([1.0, float(inner[:, 0].mean() - polygon[:, 0].mean())])
    matrix = np.array([[scale_shift[0][0], 0, scale_shift[0][1]], [0, scale_shift[1][0], scale_shift[1][1]]])
    if opacity == 0.0:  # only a closing cover: the moved lips are a sliver whose fit onto T's is
        matrix = np.eye(2, 3)  # meaningless (upside down, once); T as it is shows its closed lips there
    size = target.shape[0]
    mapped = cv2.warpAffine(np.asarray(target, np.float32), matrix, (size, size),
                            flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    luminance = np.clip(mean + contrast * (mapped - render_mean), 0.0, highlight)
    interior = outer = None
    if cover:
        # T's inner lips in the output frame (the map inverted), drawn where used at the
        # resolution used: a 48x48 mask is too soft for a mouth's thin corners.
        interior = np.stack([(inner[:, i] - matrix[i, 2]) / matrix[i, i] for i in (0, 1)], axis=-1).astype(np.float32)
        outer = np.asarray(source_points, np.float32)[OUTER_LIPS]
    return MouthOpening(polygon.astype(np.float32), own, luminance.astype(np.float32), opacity, interior, outer,
                        CLEAN, teeth_skin, smooth, closing=closing, target_open=target_open, seam=seam)


def fill_weight(opening: MouthOpening, to_photo: np.ndarray, box: tuple[int, int, int, int],
                map_x: np.ndarray, map_y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """[h, w] float32 in [0, 1] over the photo `box` (x0, y0, x1, y1): inside the moved inner
    lips, drawn at photo resolution (edges anti-aliased), less the pixels whose warp source
    (map_x, map_y: absolute photo coordinates) lies inside the photo's own inner lips, unless
    T shows lips there, and with a closing cover (CLOSE_COVER) the photo's teeth wherever the warp
    puts them; and where T shows its inside ([h, w] in [0, 1], or None: everywhere)."""
    x0, y0, x1, y1 = box
    inside = lips_mask(opening.polygon, to_photo, (x0, y0), (y1 - y0, x1 - x0), smooth=opening.smooth)
    own = _own_mask(opening, to_photo, box)
    own_there = _moved(own, box, map_x, map_y)
    interior = None
    if opening.interior is not None:
        interior = lips_mask(opening.interior, to_photo, (x0, y0), (y1 - y0, x1 - x0), smooth=opening.smooth)
    weight = _weight(opening.opacity, inside, own_there, interior)
    radius = opening.clean * affine_scale(to_photo)  # crop -> photo pixels
    weight = np.minimum(without_thin(weight, radius), opening.opacity * inside)
    if opening.closing > 0 and interior is not None:
        reach = int(round(CLOSE_MARGIN * float(np.hypot(*to_photo[:, 1]))))  # crop -> photo pixels, down the crop
        grown = cv2.dilate(own, np.ones((2 * reach + 1, 1), np.uint8)) if reach > 0 else own
        teeth = _moved(grown, box, map_x, map_y)
        # T's inside only as far as T opens: closed lips' points cross, and their sliver of a polygon
        # kept the teeth's white line exactly where it should close. A difference, as in _weight.
        weight = np.maximum(weight, opening.closing * np.clip(teeth - opening.target_open * interior, 0.0, 1.0))
    return weight, interior


def _weight(opacity: float, inside: np.ndarray, own_there: np.ndarray, interior: np.ndarray | None) -> np.ndarray:
    # The photo's own mouth, where T has one too (a minimum: where both edges coincide, a product
    # of two anti-aliased edges would leave part of the edge to the fill).
    kept = own_there if interior is None else np.minimum(own_there, interior)
    # A difference, not inside x (1 - kept): where both edges coincide (a mouth that did not move)
    # the anti-aliased product left a quarter-strength ring round it.
    return (opacity * np.clip(inside - kept, 0.0, 1.0)).astype(np.float32)


def focus_blur(photo: np.ndarray, opening: MouthOpening, to_photo: np.ndarray, origin: tuple[int, int]) -> float:
    """How much to blur the fill's weight (a Gaussian sigma, photo pixels; 0: not at all): the blur
    of the photo's own edges round its mouth (edge_blur, over the outer lips' rectangle widened
    to twice their size, or the moved inner lips' without them) less the drawn edge's EDGE_WIDTH.
    `photo`: [h, w, 3] float32, the box at `origin`."""
    return lips_focus(photo, opening.polygon if opening.outer is None else opening.outer, to_photo, origin)


def lips_focus(photo: np.ndarray, lips: np.ndarray, to_photo: np.ndarray, origin: tuple[int, int]) -> float:
    """focus_blur's sigma round any crop-space `lips` [N, 2] (photo pixels; 0: no blur needed)."""
    rectangle = rectangle_around(widened(lips, 2.0), to_photo, origin, photo.shape[:2])
    if rectangle is None:
        return 0.0
    x0, y0, x1, y1 = rectangle
    blur = edge_blur(cv2.cvtColor(np.ascontiguousarray(photo[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY))
    return 0.0 if blur is None else float(np.sqrt(max(blur ** 2 - EDGE_WIDTH ** 2, 0.0)))


def crop_fill_weight(opening: MouthOpening, flow: np.ndarray) -> np.ndarray:
    """fill_weight in the crop's own frame ([S, S], `flow`: the motion), where face_change keeps
    the residual out of the opening: low-passed, T's teeth would otherwise lighten the lips around it."""
    size = flow.shape[0]
    return fill_weight(opening, CROP_FRAME, (0, 0, size, size), *_crop_maps(flow))[0]


def own_mouth_moved(opening: MouthOpening, flow: np.ndarray) -> np.ndarray:
    """[S, S] float32 in [0, 1]: where the motion `flow` (backward, crop pixels) puts what the
    photo showed between its own inner lips (its teeth), in the crop's frame (fill_weight's kept
    mouth, before T's lips cover any of it)."""
    size = flow.shape[0]
    box = (0, 0, size, size)
    return _moved(_own_mask(opening, CROP_FRAME, box), box, *_crop_maps(flow))


def _own_mask(opening: MouthOpening, to_photo: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """[h, w] float32 in [0, 1] over `box` (x0, y0, x1, y1): the photo's own inner lips."""
    x0, y0, x1, y1 = box
    return lips_mask(opening.own, to_photo, (x0, y0), (y1 - y0, x1 - x0), smooth=opening.smooth)


def _moved(mask: np.ndarray, box: tuple[int, int, int, int], map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """`mask` [h, w] over `box` where the warp puts it: sampled at each pixel's warp source
    (map_x, map_y: absolute photo coordinates)."""
    x0, y0 = box[:2]
    return cv2.remap(mask, map_x - x0, map_y - y0, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _crop_maps(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The backward `flow`'s source of each crop pixel, as cv2.remap's (map_x, map_y)."""
    grid = np.arange(flow.shape[0], dtype=np.float32)
    return grid[None, :] + flow[..., 0], grid[:, None] + flow[..., 1]


def fill_opening(edited: np.ndarray, warped: np.ndarray, region: np.ndarray, opening: MouthOpening,
                 to_photo: np.ndarray, box: tuple[int, int, int, int], maps: tuple[np.ndarray, np.ndarray],
                 sample_cubic: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """change_to_photo.apply_change's last step: `edited` [h, w, 3] float32 (`warped`: the photo warped,
    `region`: the photo, over the same `box`; `maps`: the warp's source of each box pixel,
    `sample_cubic`: its crop position) with the opening's fill over the moved inner lips, tinted as
    the photo's lips are (lips_colour; without its outer lips, as the warped
    photo's pixels there, the lips' stretched seam in a closed mouth)."""
    weight, interior = fill_weight(opening, to_photo, box, *maps)
    sigma = focus_blur(region, opening, to_photo, box[:2]) if opening.match_focus else 0.0
    if sigma > 0.25:  # below, the drawn edge is as soft already
        weight = cv2.GaussianBlur(weight, (0, 0), sigma)
        if interior is not None:  # T's lips' edge inside the opening, likewise
            interior = cv2.GaussianBlur(interior, (0, 0), sigma)
    total = float(weight.sum())
    if total < 1e-3:
        return edited
    measured = lips_colour(region, opening, to_photo, box[:2])
    if measured is None:  # the stretched seam's colour (the lips', in a closed mouth)
        measured = mean_colour(warped, weight)
    lips, lips_level = measured
    # Cubic: the fill is the one place a render's pixels are shown rather than added as a change.
    luminance = cv2.remap(opening.luminance, *sample_cubic, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    if opening.structured and opening.opacity > 0.0:
        lips_drawn = opening.polygon if opening.interior is None else opening.interior
        # The teeth's edges as soft as the photo's, like the opening's own.
        luminance = structured_interior(opening.luminance, lips_drawn, *sample_cubic, luminance,
                                        soften=sigma if sigma > 0.25 else 0.0)
    teeth = teeth_colour(region, opening, to_photo, box[:2], opening.teeth_skin) if opening.teeth_skin > 0 else None
    if opening.opacity == 0.0:  # only the closing cover: closed lips, no brighter than the photo's own
        luminance = np.minimum(luminance, lips_level)
    if opening.closing > 0 and opening.seam > 0:  # and the line where they meet (lip_seam.py)
        depth = opening.seam * opening.closing * (1.0 - opening.opacity)
        luminance = luminance * seam_shade(opening.polygon, to_photo, box[:2], luminance.shape, depth=depth, where=weight)
    fill = fill_colour(luminance, lips, interior, teeth, lips_level if opening.shaded else None)
    return edited + weight[..., None] * (fill - edited)
