"""Gaussian maps rendered from 2D keypoints.

* :class:`PoseHeatmapVolume` -- the pseudo-heatmap volume of PoseC3D that
  EPAM-Net's pose stream takes (seed 002, §3.2, eq. (1)):
  ``H_k(x, y) = exp(-((x - x_k)^2 + (y - y_k)^2) / (2 sigma^2))``, one map
  per joint (and optionally per limb), stacked over the ``T`` sampled
  frames. It computes exactly what MMAction2's ``GeneratePoseTarget`` does,
  vectorised over all frames, joints and persons.
* :class:`JointHeatmaps` -- the per-frame, per-joint maps
  ``H in R^{T x R x h x w}`` of the joint tokenizer of the 3D deformable
  transformer (seed 004, §3.1 "Pose modality", eqs. (1)-(2)), at the
  resolution of a feature map of the (cropped, resized) RGB clip; persons
  combined by maximum or concatenated along the joint axis.
* :class:`JointCoordinates` -- the same joints as cell coordinates
  ``(x, y, valid)`` of that grid, what
  :class:`~mmar_ext.models.necks.JointTokenizer` consumes (it evaluates
  eqs. (1)-(2) itself); both share :func:`joint_cells`.

It also holds the keypoint reading shared by the pose-derived transforms
(:func:`read_keypoints`: non-finite coordinates become missing joints,
counted in ``results['num_nan_keypoints']``) and the frame alignment of a
48-frame pose clip with its 16-frame RGB sub-clip
(:func:`keypoint_frames_of`).
"""
import logging
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmaction.registry import TRANSFORMS
from ..skeleton_layouts import flip_kp, get_layout, limb_flip_pairs

#: MMAction2's / PoseC3D's COCO-17 limbs and left/right index lists, from
#: the ``'coco17'`` skeleton layout (kept as names for existing imports):
#: ``COCO_SKELETONS`` ``((0, 1), (0, 2), ..., (11, 12))``, ``COCO_LEFT_KP``
#: ``(1, 3, ..., 15)``, ``COCO_RIGHT_KP`` ``(2, 4, ..., 16)``,
#: ``COCO_LEFT_LIMB`` ``(0, 2, 4, 5, 6, 10, 11, 12)``, ``COCO_RIGHT_LIMB``
#: ``(1, 3, 7, 8, 9, 13, 14, 15)``.
COCO_SKELETONS = get_layout('coco17').limbs
COCO_LEFT_KP = tuple(flip_kp('coco17')['left_kp'])
COCO_RIGHT_KP = tuple(flip_kp('coco17')['right_kp'])
COCO_LEFT_LIMB, COCO_RIGHT_LIMB = limb_flip_pairs('coco17')

#: GeneratePoseTarget's score threshold: joints below it are not drawn.
EPS = 1e-4
#: Pixels per vectorised chunk of limb pieces (keeps arrays in cache).
LIMB_CHUNK = 1 << 15
#: Limb maps are evaluated within this many sigmas of the segment; further
#: out ``exp(-d^2 / 2 sigma^2) < 1e-7``.
BAND_SIGMAS = float(np.sqrt(2 * np.log(1e7)))


# --------------------------------------------------------------------------
# Keypoint reading shared by the pose-derived transforms
# --------------------------------------------------------------------------
def sample_name(results: Dict) -> str:
    return str(results.get('frame_dir', '<unknown sample>'))


def warn_sample(results: Dict, msg: str) -> None:
    """Log a warning naming the sample (MMEngine's current logger)."""
    print_log(
        f'Sample {sample_name(results)}: {msg}',
        logger='current',
        level=logging.WARNING)


def read_keypoints(
        results: Dict,
        keypoint_key: str = 'keypoint',
        score_key: str = 'keypoint_score',
        caller: str = '') -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """The 2D keypoints ``[M, T, K, 2]`` and scores ``[M, T, K]`` (float32).

    Returns None when ``results`` has no ``keypoint_key`` (a sample without
    any skeleton); an empty array of another shape gives ``[0, 0, 0, 2]``.
    Scores default to ones. A joint with a non-finite
    coordinate or score (NaN from a pose estimator) becomes a *missing*
    joint: coordinates ``(0, 0)``, score 0, as NTU stores untracked bodies.
    The cleaned arrays are written back (so MMAction2 transforms downstream
    never see NaN), the number of such joints is added to
    ``results['num_nan_keypoints']`` and a warning names the sample.
    """
    if keypoint_key not in results:
        return None
    kp = np.asarray(results[keypoint_key], dtype=np.float32)
    if kp.size == 0 and kp.ndim != 4:  # e.g. np.array([]): no person
        return (np.zeros((0, 0, 0, 2),
                         np.float32), np.zeros((0, 0, 0), np.float32))
    if kp.ndim != 4 or kp.shape[-1] < 2:
        raise ValueError(
            f'Sample {sample_name(results)}: {caller} expects '
            f'{keypoint_key} of shape [M, T, K, 2], got {kp.shape}')
    kp = kp[..., :2]
    if score_key in results:
        score = np.asarray(results[score_key], dtype=np.float32)
        if score.shape != kp.shape[:-1]:
            raise ValueError(
                f'Sample {sample_name(results)}: {caller}: {score_key} '
                f'shape {score.shape} does not match {keypoint_key} '
                f'shape {kp.shape}')
    else:
        score = np.ones(kp.shape[:-1], np.float32)
    bad = ~(np.isfinite(kp).all(-1) & np.isfinite(score))
    if bad.any():
        num = int(bad.sum())
        kp = np.where(bad[..., None], np.float32(0), kp)
        score = np.where(bad, np.float32(0), score)
        full = np.array(results[keypoint_key], dtype=np.float32)
        full[..., :2] = kp
        full[bad] = 0
        results[keypoint_key] = full
        results[score_key] = score
        results['num_nan_keypoints'] = results.get('num_nan_keypoints',
                                                   0) + num
        warn_sample(
            results, f'{caller}: {num} keypoint(s) with NaN/inf '
            'coordinates or scores treated as missing (score 0)')
    return kp, score


def keypoint_frames_of(results: Dict, modality: str,
                       num_kp_frames: int) -> np.ndarray:
    """Positions on the keypoint time axis of the frames of ``modality``.

    EPAM-Net (seed 002, Fig. 2) samples ``N = 48`` pose frames and takes
    every ``N / M``-th of them for RGB; ``MultiModalSampleFrames`` stores
    both (``pose_inds``, ``rgb_inds``). Keypoints sliced with ``pose_inds``
    (or ``frame_inds``) are matched to ``<modality>_inds`` by value with the
    constant stride; unsliced keypoints (``T == total_frames``) are indexed
    by ``<modality>_inds`` directly.
    """
    inds = results.get(f'{modality}_inds', results.get('frame_inds'))
    imgs = results.get(f'{modality}_imgs')
    num = len(imgs) if imgs is not None else (
        None if inds is None else len(np.asarray(inds).reshape(-1)))
    if num is None or num == num_kp_frames:
        return np.arange(num_kp_frames)
    inds = None if inds is None else np.asarray(inds).reshape(-1)
    kp_inds = results.get('pose_inds', results.get('frame_inds'))
    if kp_inds is not None:
        kp_inds = np.asarray(kp_inds).reshape(-1)
    if inds is not None and len(inds) == num:
        if kp_inds is not None and len(kp_inds) == num_kp_frames and \
                num_kp_frames % num == 0:
            stride = num_kp_frames // num
            for start in range(stride):
                pos = np.arange(num) * stride + start
                if np.array_equal(kp_inds[pos], inds):
                    return pos
        if num_kp_frames == results.get('total_frames') and \
                inds.min() >= 0 and inds.max() < num_kp_frames:
            return inds.astype(np.int64)
    raise ValueError(
        f'Sample {sample_name(results)}: cannot align the {num_kp_frames} '
        f'keypoint frames with the {num} frames of modality {modality!r} '
        '(expected keypoints sliced with pose_inds/frame_inds from '
        'MultiModalSampleFrames, or unsliced with total_frames frames)')


# --------------------------------------------------------------------------
# Vectorised rendering (GeneratePoseTarget's arithmetic, all at once)
# --------------------------------------------------------------------------
def _windows(lo: np.ndarray, hi: np.ndarray,
             size: int) -> Tuple[np.ndarray, np.ndarray]:
    """``[max(int(lo), 0), min(int(hi) + 1, size))``; ``int`` truncates
    toward zero, exactly as in GeneratePoseTarget."""
    start = np.clip(np.trunc(lo), 0, size).astype(np.int64)
    end = np.clip(np.trunc(hi) + 1, 0, size).astype(np.int64)
    return start, end


def _scalar_square(v: np.ndarray) -> np.ndarray:
    """``v ** 2`` of a float32 array as numpy's float32 *scalar* power
    computes it (libm ``powf``, which GeneratePoseTarget's per-limb
    ``d2_ab`` goes through). ``powf`` differs from the correctly rounded
    ``v * v`` only next to rounding ties, so those few are redone with the
    scalar operation; a 1-ulp change of ``d2_ab`` would move a long limb's
    projection by ``~1e-7 * length`` pixels."""
    sq = v * v
    exact = v.astype(np.float64)**2
    frac = np.abs(exact - sq) / np.spacing(sq).astype(np.float64)
    for i in np.flatnonzero(frac > 0.49):
        sq[i] = v[i]**2
    return sq


def _scatter_max(flat: np.ndarray,
                 idx: np.ndarray,
                 vals: np.ndarray,
                 fresh: bool = False) -> None:
    """``flat[idx] = max(flat[idx], vals)``. ``idx`` may repeat only where
    the repeats carry the same value (a limb piece's padding) or point to
    the trash slot ``len(flat) - 1`` (masked elements). ``fresh``: nothing
    was drawn there yet (the volume is zero), so assign."""
    flat[idx] = vals if fresh else np.maximum(flat[idx], vals)


def render_points(flat: np.ndarray,
                  shape: Tuple[int, int, int, int],
                  base: np.ndarray,
                  centers: np.ndarray,
                  values: np.ndarray,
                  sigma: float,
                  fresh: bool = False) -> None:
    """Max-combine truncated Gaussians into a ``[T, C, H, W]`` volume.

    ``flat`` is the volume flattened plus one trash element; ``base[i]`` is
    the flat offset of instance ``i``'s ``(t, c)`` map, and the ``(t, c)``
    maps of one call must be distinct. Each Gaussian is
    ``value * exp(-dx^2 / 2 sigma^2) * exp(-dy^2 / 2 sigma^2)`` (EPAM-Net
    eq. (1), separable) on GeneratePoseTarget's window
    ``[int(mu - 3 sigma), int(mu + 3 sigma)]`` clipped to the image;
    instances with ``value < 1e-4`` are skipped. ``fresh``: the maps of
    ``base`` are still empty (first person), so values are assigned.
    """
    _, _, h, w = shape
    keep = values >= EPS
    if not keep.any():
        return
    base, mu, values = base[keep], centers[keep], values[keep]
    r = np.float32(3 * sigma)
    x0, x1 = _windows(mu[:, 0] - r, mu[:, 0] + r, w)
    y0, y1 = _windows(mu[:, 1] - r, mu[:, 1] + r, h)
    ok = (x1 > x0) & (y1 > y0)
    if not ok.all():
        base, mu, values = base[ok], mu[ok], values[ok]
        x0, x1, y0, y1 = x0[ok], x1[ok], y0[ok], y1[ok]
    if not len(base):
        return
    size = int(np.ceil(2 * r)) + 2  # widest possible window
    off = np.arange(size)
    xs, ys = x0[:, None] + off, y0[:, None] + off  # [n, S]
    den = np.float32(2 * sigma**2)
    gx = np.exp(-(xs.astype(np.float32) - mu[:, :1])**2 / den)
    gy = np.exp(-(ys.astype(np.float32) - mu[:, 1:])**2 / den)
    gy *= values[:, None].astype(np.float32)
    patch = gy[:, :, None] * gx[:, None, :]
    idx = base[:, None, None] + ys[:, :, None] * w + xs[:, None, :]
    idx[(ys >= y1[:, None])[:, :, None] | (xs >= x1[:, None])[:, None, :]] = \
        len(flat) - 1
    _scatter_max(flat, idx, patch, fresh)


def render_limbs(flat: np.ndarray, shape: Tuple[int, int, int, int],
                 base: np.ndarray, person: np.ndarray, starts: np.ndarray,
                 ends: np.ndarray, start_values: np.ndarray,
                 end_values: np.ndarray, sigma: float) -> None:
    """Max-combine limb maps into a ``[T, C, H, W]`` volume (PoseC3D).

    Instance ``i`` is limb ``a -> b`` of person ``person[i]`` in the map at
    flat offset ``base[i]`` (one instance per map and person). With value
    ``min(s_a, s_b) >= 1e-4``, on the window
    ``[int(min - 3 sigma), int(max + 3 sigma)]`` of both end points, the
    map is ``value * exp(-d^2 / 2 sigma^2)`` with ``d`` the distance to the
    segment: ``|p - a|`` where the projection coefficient
    ``c = (|p-a|^2 - |p-b|^2 + |a-b|^2) / (2 |a-b|^2) <= 0``, ``|p - b|``
    where ``c >= 1``, else the distance to ``a + c (b - a)``; a limb shorter
    than 1 pixel (``|a-b|^2 < 1``, float32 as GeneratePoseTarget) is the
    joint map of ``a`` with value ``s_a``.

    Only the pixels of each window row within ``BAND_SIGMAS * sigma`` of the
    segment are evaluated (GeneratePoseTarget's other window pixels hold
    values below ``1e-7``): every (limb, row) piece becomes one item, items
    are sorted by person and width and computed a chunk at a time.
    """
    _, _, h, w = shape
    value = np.minimum(start_values, end_values)
    keep = value >= EPS
    if not keep.any():
        return
    base, person, a, b = base[keep], person[keep], starts[keep], ends[keep]
    value, sa = value[keep], start_values[keep]
    r = np.float32(3 * sigma)
    x0, x1 = _windows(
        np.minimum(a[:, 0], b[:, 0]) - r,
        np.maximum(a[:, 0], b[:, 0]) + r, w)
    y0, y1 = _windows(
        np.minimum(a[:, 1], b[:, 1]) - r,
        np.maximum(a[:, 1], b[:, 1]) + r, h)
    ok = (x1 > x0) & (y1 > y0)
    d2_ab = _scalar_square(a[:, 0] - b[:, 0]) + \
        _scalar_square(a[:, 1] - b[:, 1])
    short = d2_ab < 1
    sel = np.flatnonzero(ok & ~short)
    if len(sel):
        _render_limb_items(flat, w, sigma, base[sel], person[sel], a[sel],
                           b[sel], d2_ab[sel], value[sel], x0[sel], x1[sel],
                           y0[sel], y1[sel])
    short &= ok
    for p in np.unique(person[short]):  # after the rows, by maximum
        one = short & (person == p)
        render_points(flat, shape, base[one], a[one], sa[one], sigma)


def _render_limb_items(flat, w, sigma, base, person, a, b, d2_ab, value, x0,
                       x1, y0, y1) -> None:
    """Split limb windows into (limb, row) pieces of the band around each
    segment (:func:`_row_bands`) and render them in chunks of about
    ``LIMB_CHUNK`` pixels (:func:`_render_limb_rows`)."""
    nrows = y1 - y0
    inst = np.repeat(np.arange(len(base)), nrows)
    y = np.arange(len(inst)) - np.repeat(np.cumsum(nrows) - nrows, nrows) + \
        y0[inst]
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    xl, xr = _row_bands(a64[:, 0][inst], a64[:, 1][inst], b64[:, 0][inst],
                        b64[:, 1][inst], y, x0[inst], x1[inst],
                        BAND_SIGMAS * sigma)
    width = xr - xl
    # Person-major, then by width (radix sort), so that a chunk (one person:
    # its maps are distinct) padded to its widest piece wastes little; the
    # stable sort keeps equal widths in memory order for the scatter.
    key = person[inst] * (int(width.max()) + 1) + width
    order = np.argsort(
        key.astype(np.uint16) if key.max() < 1 << 16 else key, kind='stable')
    order = order[width[order] > 0]
    inst, y, xl, width = inst[order], y[order], xl[order], width[order]
    items = dict(
        ax=a[:, 0][inst],
        ay=a[:, 1][inst],
        bx=b[:, 0][inst],
        by=b[:, 1][inst],
        y=y.astype(np.float32),
        x=xl.astype(np.float32),
        width=width,
        row=base[inst] + y * w,
        value=value[inst],
        d2_ab=d2_ab[inst])
    ends = np.flatnonzero(np.diff(person[inst])) + 1
    i = 0
    for stop in list(ends) + [len(inst)]:  # one person at a time
        fresh = i == 0  # the first person's limb maps are still empty
        while i < stop:
            # widths ascend: the largest n with n * width[i + n - 1] <= budget
            cost = np.arange(1, LIMB_CHUNK + 1)[:stop - i] * \
                width[i:min(i + LIMB_CHUNK, stop)]
            n = max(1, int(np.searchsorted(cost, LIMB_CHUNK, side='right')))
            _render_limb_rows(flat, sigma, fresh, **{
                k: v[i:i + n]
                for k, v in items.items()
            })
            i += n


def _row_bands(ax, ay, bx, by, y, x0, x1, radius):
    """For the row ``y`` of the window ``[x0, x1)`` of segment ``a -> b``
    (1D arrays of items), the columns ``[xl, xr)`` that can lie within
    ``radius`` of the segment: the x-span of the segment points with
    ``|q_y - y| <= radius`` widened by ``radius``, cut to the strip of
    half-width ``radius`` around the line, clipped to the window."""
    ux, uy = bx - ax, by - ay
    level = uy == 0  # horizontal limb: the row may see the whole segment
    with np.errstate(divide='ignore', invalid='ignore'):  # uy == 0 rows
        s1 = (y - radius - ay) / uy
        s2 = (y + radius - ay) / uy
        cross_x = ax + (y - ay) * (ux / uy)
        half = radius * np.sqrt(ux * ux + uy * uy) / np.abs(uy)
        strip_l, strip_r = cross_x - half, cross_x + half
    lo = np.where(level, 0., np.clip(np.minimum(s1, s2), 0, 1))
    hi = np.where(level, 1., np.clip(np.maximum(s1, s2), 0, 1))
    xa, xb = ax + lo * ux, ax + hi * ux
    xl = np.floor(np.minimum(xa, xb) - radius)
    xr = np.floor(np.maximum(xa, xb) + radius) + 1
    xl = np.where(level, xl, np.maximum(xl, np.floor(strip_l)))
    xr = np.where(level, xr, np.minimum(xr, np.floor(strip_r) + 1))
    xl = np.clip(xl, x0, x1)
    xr = np.clip(np.maximum(xr, xl), x0, x1)
    return xl.astype(np.int64), xr.astype(np.int64)


def _render_limb_rows(flat, sigma, fresh, ax, ay, bx, by, y, x, width, row,
                      value, d2_ab) -> None:
    """Limb values on row pieces ``(y, x .. x + width - 1)`` (a chunk; ``row``
    = flat index of each piece's row), with GeneratePoseTarget's float32
    operations in its order:
    ``d2_start``, ``d2_end``, the projection coefficient
    ``c = (d2_start - d2_end + d2_ab) / 2 / d2_ab``, the squared distance to
    the projection, and the choice ``c <= 0`` / ``c >= 1`` / else. The
    chunk is padded to its widest piece by repeating each piece's last
    pixel: the repeats get the same index and the same value, so they write
    nothing new.
    """
    ax, ay, bx, by = ax[:, None], ay[:, None], bx[:, None], by[:, None]
    yy = y[:, None]
    px = x[:, None] + np.arange(int(width.max()), dtype=np.float32)
    np.minimum(px, (x + (width - 1).astype(np.float32))[:, None], out=px)
    d2_start = (px - ax)**2 + (yy - ay)**2
    d2_end = (px - bx)**2 + (yy - by)**2
    d2_ab = d2_ab[:, None]
    coeff = (d2_start - d2_end + d2_ab) / np.float32(2.) / d2_ab
    d2_line = (px - (ax + coeff * (bx - ax)))**2
    d2_line += (yy - (ay + coeff * (by - ay)))**2
    d2 = np.where(coeff <= 0, d2_start, np.where(coeff >= 1, d2_end, d2_line))
    d2 *= np.float32(-0.5 / sigma**2)
    patch = np.exp(d2, out=d2)
    patch *= value[:, None]
    idx = px.astype(np.intp)
    idx += row[:, None]
    _scatter_max(flat, idx, patch, fresh)


def render_volume(
        kps: np.ndarray,
        scores: np.ndarray,
        img_hw: Tuple[int, int],
        sigma: float,
        with_kp: bool = True,
        with_limb: bool = False,
        skeletons: Sequence[Sequence[int]] = COCO_SKELETONS) -> np.ndarray:
    """``[T, C, H, W]`` float32 maps of keypoints ``[M, T, K, 2]`` with
    per-joint values ``[M, T, K]``: ``K`` joint channels (if ``with_kp``)
    followed by ``len(skeletons)`` limb channels (if ``with_limb``); persons
    are combined by maximum."""
    m, t, k = kps.shape[:3]
    h, w = img_hw
    num_c = (k if with_kp else 0) + (len(skeletons) if with_limb else 0)
    shape = (t, num_c, h, w)
    flat = np.zeros(t * num_c * h * w + 1, np.float32)
    if m and t and num_c and h > 0 and w > 0:
        kps = np.ascontiguousarray(kps, np.float32)
        tt = np.arange(t)[:, None]
        if with_kp:
            base = ((tt * num_c + np.arange(k)) * (h * w)).reshape(-1)
            for p in range(m):  # one person per call: (t, c) maps distinct
                render_points(
                    flat,
                    shape,
                    base,
                    kps[p].reshape(-1, 2),
                    scores[p].reshape(-1),
                    sigma,
                    fresh=p == 0)
        if with_limb and len(skeletons):
            sk = np.asarray(skeletons, np.int64).reshape(-1, 2)
            c0 = k if with_kp else 0
            base = ((tt * num_c + c0 + np.arange(len(sk))) *
                    (h * w)).reshape(-1)
            render_limbs(flat, shape, np.tile(base, m),
                         np.repeat(np.arange(m),
                                   len(base)), kps[:, :, sk[:,
                                                            0]].reshape(-1, 2),
                         kps[:, :, sk[:, 1]].reshape(-1, 2),
                         scores[:, :, sk[:, 0]].reshape(-1),
                         scores[:, :, sk[:, 1]].reshape(-1), sigma)
    return flat[:-1].reshape(shape)


# --------------------------------------------------------------------------
# Transforms
# --------------------------------------------------------------------------
@TRANSFORMS.register_module()
class PoseHeatmapVolume(BaseTransform):
    """Pseudo-heatmap volume of a skeleton clip (EPAM-Net §3.2, eq. (1)).

    A drop-in, vectorised ``GeneratePoseTarget``: every frame, joint and
    limb is rendered at once (separable Gaussians on ``3 sigma`` windows,
    point-to-segment distances on each limb's window) and persons are
    combined by maximum. The arithmetic is GeneratePoseTarget's (window
    truncation ``int(mu -/+ 3 sigma)``, score threshold ``1e-4``, limb
    formula, limbs shorter than one pixel drawn as the start joint), so the
    output equals it to float32 rounding (tested to ``<= 1e-5``).

    Output ``[T, C, H, W]`` float32 (with ``double``: ``[2T, C, H, W]``, the
    second half flipped with left/right swapped, for flip testing), with
    ``H, W = int(img_shape * scaling + 0.5)``;
    ``FormatShape('NCTHW_Heatmap')`` turns it into EPAM-Net's
    ``K x T x H x W`` (48 x 56 x 56 for the pose stream).

    Differences from GeneratePoseTarget (documented choices):

    * ``with_kp=True, with_limb=True``: joint channels ``0..K-1`` then limb
      channels ``K..K+L-1``; GeneratePoseTarget draws the limbs into
      channels ``0..L-1`` (over the joints) and leaves the rest empty. With
      one of the two, the channels are the same.
    * NaN/inf coordinates or scores: missing joints (score 0, counted in
      ``num_nan_keypoints``, warning) instead of a ``ValueError``.
    * No keypoint at all (``M = 0``, or all scores 0): an all-zero volume.

    With ``use_score=False`` every keypoint is drawn with value 1, missing
    ones (score 0) included, as GeneratePoseTarget does; keep the default
    ``use_score=True`` for data with missing joints.

    Required keys: ``keypoint`` ``[M, T, K, 2]``, ``img_shape``;
    optional ``keypoint_score`` ``[M, T, K]``.
    Added key: ``out_key`` (default: ``heatmap_imgs`` if ``imgs`` exists,
    else ``imgs``, as GeneratePoseTarget; use ``'pose_imgs'`` in
    multi-modal pipelines).

    Args:
        sigma (float): Gaussian sigma in heatmap pixels. Defaults to 0.6.
        use_score (bool): Scale each map by the keypoint score.
            Defaults to True.
        with_kp (bool): Joint maps. Defaults to True.
        with_limb (bool): Limb maps. Defaults to False.
        skeletons (tuple[tuple[int]], optional): Limbs. None = the
            layout's (COCO-17: PoseC3D's). Defaults to None.
        double (bool): Append the flipped volume. Defaults to False.
        left_kp, right_kp, left_limb, right_limb (tuple[int], optional):
            Channel pairs swapped by ``double``. None = the layout's flip
            pairs (``flip_kp``) and the limbs of ``skeletons`` they mirror
            (``limb_flip_pairs``). Default to None.
        layout (str): Skeleton layout of the keypoints
            (:mod:`mmar_ext.datasets.skeleton_layouts`) giving the defaults
            above, e.g. ``'pennaction13'``. Defaults to ``'coco17'``.
        scaling (float): Heatmap size / ``img_shape`` (e.g. 0.25 for
            56x56 maps of a 224x224 RGB clip). Defaults to 1.
        out_key (str, optional): Output key. Defaults to None.
    """

    def __init__(self,
                 sigma: float = 0.6,
                 use_score: bool = True,
                 with_kp: bool = True,
                 with_limb: bool = False,
                 skeletons: Optional[Sequence[Sequence[int]]] = None,
                 double: bool = False,
                 left_kp: Optional[Sequence[int]] = None,
                 right_kp: Optional[Sequence[int]] = None,
                 left_limb: Optional[Sequence[int]] = None,
                 right_limb: Optional[Sequence[int]] = None,
                 scaling: float = 1.,
                 out_key: Optional[str] = None,
                 layout: str = 'coco17') -> None:
        if not (with_kp or with_limb):
            raise ValueError('at least one of with_kp and with_limb must be '
                             'True')
        if sigma <= 0:
            raise ValueError(f'sigma must be > 0, got {sigma}')
        self.sigma = sigma
        self.use_score = use_score
        self.with_kp = with_kp
        self.with_limb = with_limb
        self.layout = layout
        skel = get_layout(layout)
        if skeletons is None:
            skeletons = skel.limbs
        self.skeletons = tuple(tuple(int(j) for j in s) for s in skeletons)
        self.double = double
        kp_pairs = flip_kp(skel)
        limb_pairs = limb_flip_pairs(skel, self.skeletons)
        self.left_kp = tuple(kp_pairs['left_kp'] if left_kp is None
                             else left_kp)
        self.right_kp = tuple(kp_pairs['right_kp'] if right_kp is None
                              else right_kp)
        self.left_limb = tuple(limb_pairs[0] if left_limb is None
                               else left_limb)
        self.right_limb = tuple(limb_pairs[1] if right_limb is None
                                else right_limb)
        self.scaling = scaling
        self.out_key = out_key

    def _flip_order(self, num_kp: int, num_c: int) -> np.ndarray:
        order = np.arange(num_c)
        pairs = []
        if self.with_kp:
            pairs += list(zip(self.left_kp, self.right_kp))
        if self.with_limb:
            off = num_kp if self.with_kp else 0
            pairs += [(off + lf, off + rt)
                      for lf, rt in zip(self.left_limb, self.right_limb)]
        for lf, rt in pairs:
            order[lf], order[rt] = rt, lf
        return order

    def transform(self, results: Dict) -> Dict:
        got = read_keypoints(results, caller=type(self).__name__)
        if got is None:
            raise KeyError(
                f'Sample {sample_name(results)}: {type(self).__name__} needs '
                "'keypoint' (this sample has no skeleton; drop it with the "
                "dataset's missing_modality option or use a pipeline "
                'without the pose stream)')
        kps, scores = got
        if not kps.shape[1]:
            raise ValueError(
                f'Sample {sample_name(results)}: {type(self).__name__}: '
                f"'keypoint' has no frame (shape {kps.shape}); an empty "
                'clip has shape [0, T, K, 2]')
        img_h, img_w = results['img_shape']
        img_h = int(img_h * self.scaling + 0.5)
        img_w = int(img_w * self.scaling + 0.5)
        kps = kps * np.float32(self.scaling)
        if not self.use_score:
            scores = np.ones_like(scores)
        heatmap = render_volume(kps, scores, (img_h, img_w), self.sigma,
                                self.with_kp, self.with_limb, self.skeletons)
        if self.double:
            order = self._flip_order(kps.shape[2], heatmap.shape[1])
            heatmap = np.concatenate([heatmap, heatmap[:, order, :, ::-1]])
        key = self.out_key or ('heatmap_imgs' if 'imgs' in results else 'imgs')
        results[key] = heatmap
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sigma={self.sigma}, '
                f'use_score={self.use_score}, with_kp={self.with_kp}, '
                f'with_limb={self.with_limb}, skeletons={self.skeletons}, '
                f'double={self.double}, left_kp={self.left_kp}, '
                f'right_kp={self.right_kp}, left_limb={self.left_limb}, '
                f'right_limb={self.right_limb}, scaling={self.scaling}, '
                f'out_key={self.out_key!r}, layout={self.layout!r})')


# --------------------------------------------------------------------------
# Joint tokenizer inputs (seed 004, §3.1): cell coordinates of the joints
# --------------------------------------------------------------------------
def joint_cells(results: Dict,
                caller: str,
                feat_shape: Optional[Tuple[int, int]] = None,
                feat_stride: int = 2,
                score_thr: float = 0.,
                match_modality: Optional[str] = None,
                keypoint_key: str = 'keypoint',
                score_key: Optional[str] = None,
                max_persons: Optional[int] = None
                ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                           Tuple[int, int]]:
    """The joints of a sample in cell coordinates of an ``h x w`` grid.

    Shared by :class:`JointHeatmaps` and :class:`JointCoordinates`: reads
    ``keypoint_key`` / ``score_key`` (default ``f'{keypoint_key}_score'``)
    with :func:`read_keypoints`, keeps the frames of ``match_modality``
    (:func:`keypoint_frames_of`), converts pixel coordinates ``(x, y)`` of
    the ``img_shape`` ``H x W`` image to cell coordinates
    ``(x w / W - 0.5, y h / H - 0.5)`` (cell ``(i, j)`` covers pixels
    ``[j W/w, (j+1) W/w) x [i H/h, (i+1) H/h)``; ``h, w = feat_shape`` or
    ``H // feat_stride, W // feat_stride``) and, with ``max_persons``, keeps
    the first ``max_persons`` persons in stored order (extra ones dropped,
    missing ones padded with invalid joints).

    Returns ``u`` (column), ``v`` (row), ``valid`` (bool: score
    ``> score_thr``; NaN joints have score 0), ``score``, all float32
    ``[M, T, K]`` (``M = max_persons`` if given), and ``(h, w)``. Invalid
    joints have ``u = v = score = 0``.
    """
    score_key = score_key or f'{keypoint_key}_score'
    got = read_keypoints(results, keypoint_key, score_key, caller=caller)
    if got is None:
        hint = ''
        if keypoint_key == 'keypoint_ntu25':
            hint = (' (build it with python -m data_prep.ntu.'
                    'build_annotations --ntu25-2d)')
        raise KeyError(f'Sample {sample_name(results)}: {caller} needs '
                       f'{keypoint_key!r}{hint}')
    kps, scores = got
    if not kps.shape[1]:
        raise ValueError(
            f'Sample {sample_name(results)}: {caller}: '
            f'{keypoint_key!r} has no frame (shape {kps.shape})')
    img_h, img_w = results['img_shape'][:2]
    h, w = feat_shape or (img_h // feat_stride, img_w // feat_stride)
    if match_modality is not None:
        pos = keypoint_frames_of(results, match_modality, kps.shape[1])
        kps, scores = kps[:, pos], scores[:, pos]
    if max_persons is not None:
        m = kps.shape[0]
        kps, scores = kps[:max_persons], scores[:max_persons]
        if m < max_persons:
            pad = max_persons - m
            kps = np.concatenate(
                [kps, np.zeros((pad, ) + kps.shape[1:], np.float32)])
            scores = np.concatenate(
                [scores,
                 np.zeros((pad, ) + scores.shape[1:], np.float32)])
    valid = scores > score_thr
    u = kps[..., 0] * np.float32(w / img_w) - np.float32(0.5)
    v = kps[..., 1] * np.float32(h / img_h) - np.float32(0.5)
    zero = np.float32(0)
    u, v = np.where(valid, u, zero), np.where(valid, v, zero)
    scores = np.where(valid, scores, zero)
    return (u.astype(np.float32), v.astype(np.float32), valid,
            scores.astype(np.float32), (int(h), int(w)))


class _JointGridTransform(BaseTransform):
    """Arguments shared by :class:`JointHeatmaps` and
    :class:`JointCoordinates` (see there)."""

    default_out_key = 'joint_heatmaps'

    def __init__(self,
                 feat_shape: Optional[Union[int, Tuple[int, int]]] = None,
                 feat_stride: int = 2,
                 score_thr: float = 0.,
                 match_modality: Optional[str] = None,
                 max_persons: int = 2,
                 keypoint_key: str = 'keypoint',
                 out_key: Optional[str] = None) -> None:
        if isinstance(feat_shape, int):
            feat_shape = (feat_shape, feat_shape)
        self.feat_shape = None if feat_shape is None else tuple(feat_shape)
        if feat_stride < 1:
            raise ValueError(f'feat_stride must be >= 1, got {feat_stride}')
        if max_persons < 1:
            raise ValueError(f'max_persons must be >= 1, got {max_persons}')
        self.feat_stride = feat_stride
        self.score_thr = score_thr
        self.match_modality = match_modality
        self.max_persons = max_persons
        self.keypoint_key = keypoint_key
        self.out_key = out_key or self.default_out_key

    def _cells(self, results: Dict, max_persons: Optional[int]):
        return joint_cells(
            results,
            caller=type(self).__name__,
            feat_shape=self.feat_shape,
            feat_stride=self.feat_stride,
            score_thr=self.score_thr,
            match_modality=self.match_modality,
            keypoint_key=self.keypoint_key,
            max_persons=max_persons)

    def _repr_args(self) -> str:
        return (f'feat_shape={self.feat_shape}, '
                f'feat_stride={self.feat_stride}, '
                f'score_thr={self.score_thr}, '
                f'match_modality={self.match_modality!r}, '
                f'max_persons={self.max_persons}, '
                f'keypoint_key={self.keypoint_key!r}, '
                f'out_key={self.out_key!r}')


@TRANSFORMS.register_module()
class JointHeatmaps(_JointGridTransform):
    """Per-frame joint heatmaps for a joint tokenizer (seed 004, §3.1).

    ``H_{t,r}(i, j) = exp(-((i - x_{t,r})^2 + (j - y_{t,r})^2) / 2 sigma^2)``
    (eq. (2)) on an ``h x w`` grid matching a feature map of the RGB clip
    (``F_a`` is ``H/2 x W/2`` in the paper: ``feat_stride=2``), so that
    eq. (1), ``P_t = ||_r sum_ij F_{a,t}(i, j) H_{t,r}(i, j)``, pools the
    features under each joint. The maps are computed from the keypoints as
    they are *after* the RGB crop/resize/flip (run it after
    ``ModalityTransforms(keypoint_modality='rgb')``) and the final
    ``img_shape``.

    Coordinates: cell ``(i, j)`` (row, column) covers image pixels
    ``[j W/w, (j+1) W/w) x [i H/h, (i+1) H/h)``; MMAction2's transforms keep
    keypoints in continuous pixel coordinates (``Flip``: ``x -> W - x``), so
    a keypoint ``(x, y)`` sits at cell coordinates
    ``(x w / W - 0.5, y h / H - 0.5)`` and ``sigma`` is in cells. Eq. (2)
    pairs the row index ``i`` with ``x`` in print; we read ``x`` as the
    column (``j``) and ``y`` as the row (``i``), the only reading under
    which the map peaks at the joint. Joints with score ``<= score_thr``
    (missing, NaN) give no response. The Gaussian is not truncated.

    Persons (``persons``):

    * ``'max'``: combined by maximum, ``[T, K, h, w]`` (all persons).
    * ``'concat'``: each person's joints are separate maps, persons
      concatenated along the joint axis, ``[T, max_persons * K, h, w]``
      (person 0's ``K`` joints, then person 1's, ...); the first
      ``max_persons`` persons are kept, absent ones give all-zero maps.
      This is what :class:`~mmar_ext.models.necks.JointTokenizer` computes
      from :class:`JointCoordinates` (without materialising the maps).

    Required keys: ``keypoint_key``, ``img_shape``; optional
    ``<keypoint_key>_score`` and, with ``match_modality``,
    ``<m>_inds``/``<m>_imgs``, ``pose_inds``.
    Added key: ``out_key``, float32 ``[T, K, h, w]`` or
    ``[T, max_persons * K, h, w]``.

    Args:
        feat_shape (tuple[int], optional): ``(h, w)`` of the maps.
        feat_stride (int, optional): ``h, w = H // stride, W // stride``
            (used when ``feat_shape`` is None). Defaults to 2.
        sigma (float): Gaussian sigma in cells. Defaults to 1.
        use_score (bool): Scale by the keypoint score (eq. (2) does not).
            Defaults to False.
        score_thr (float): Joints with score ``<= score_thr`` are missing.
            Defaults to 0.
        match_modality (str, optional): Keep the keypoint frames of this
            modality's clip (e.g. ``'rgb'`` when the pose clip has 48
            frames and RGB every 3rd). Defaults to None (all frames).
        persons (str): ``'max'`` or ``'concat'``. Defaults to ``'max'``.
        max_persons (int): Persons kept by ``'concat'``. Defaults to 2.
        keypoint_key (str): Keypoints ``[M, T, K, 2]`` to read (scores from
            ``<keypoint_key>_score``), e.g. ``'keypoint_ntu25'`` for NTU's
            2D Kinect joints. Defaults to ``'keypoint'``.
        out_key (str): Defaults to ``'joint_heatmaps'``.
    """

    def __init__(self,
                 feat_shape: Optional[Union[int, Tuple[int, int]]] = None,
                 feat_stride: int = 2,
                 sigma: float = 1.,
                 use_score: bool = False,
                 score_thr: float = 0.,
                 match_modality: Optional[str] = None,
                 persons: str = 'max',
                 max_persons: int = 2,
                 keypoint_key: str = 'keypoint',
                 out_key: str = 'joint_heatmaps') -> None:
        super().__init__(feat_shape, feat_stride, score_thr, match_modality,
                         max_persons, keypoint_key, out_key)
        if sigma <= 0:
            raise ValueError(f'sigma must be > 0, got {sigma}')
        if persons not in ('max', 'concat'):
            raise ValueError(
                f"persons must be 'max' or 'concat', got {persons!r}")
        self.sigma = sigma
        self.use_score = use_score
        self.persons = persons

    def transform(self, results: Dict) -> Dict:
        concat = self.persons == 'concat'
        u, v, valid, scores, (h, w) = self._cells(
            results, self.max_persons if concat else None)
        m, t, k = u.shape
        den = np.float32(2 * self.sigma**2)
        gx = np.exp(-(np.arange(w, dtype=np.float32) - u[..., None])**2 /
                    den)  # [M, T, K, w]
        gy = np.exp(-(np.arange(h, dtype=np.float32) - v[..., None])**2 /
                    den)  # [M, T, K, h]
        val = np.where(valid, scores if self.use_score else np.float32(1),
                       np.float32(0)).astype(np.float32)
        gy *= val[..., None]
        if concat:  # [M, T, K, h, w] -> [T, M * K, h, w], person-major
            out = gy[..., :, None] * gx[..., None, :]
            out = out.transpose(1, 0, 2, 3, 4).reshape(t, m * k, h, w)
            out = np.ascontiguousarray(out)
        else:
            out = np.zeros((t, k, h, w), np.float32)
            for p in range(m):  # max over persons, one [T, K, h, w] at a time
                np.maximum(
                    out, gy[p][..., :, None] * gx[p][..., None, :], out=out)
        results[self.out_key] = out
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(sigma={self.sigma}, '
                f'use_score={self.use_score}, persons={self.persons!r}, '
                f'{self._repr_args()})')


@TRANSFORMS.register_module()
class JointCoordinates(_JointGridTransform):
    """Joint positions in feature-map cells for a joint tokenizer (seed 004,
    §3.1, eqs. (1)-(2)).

    The input of :class:`~mmar_ext.models.necks.JointTokenizer`, which
    evaluates eq. (1) with the Gaussians of eq. (2) itself (separably, on
    the device), so no ``T x R x h x w`` heatmaps (tens of MB per clip) are
    built or moved. The coordinates, frame and person selection are those
    of :class:`JointHeatmaps` with ``persons='concat'`` (shared code,
    :func:`joint_cells`): a keypoint ``(x, y)`` of the ``H x W``
    ``img_shape`` image sits at cell ``(x w / W - 0.5, y h / H - 0.5)``
    (column, row) of the ``h x w`` grid; the first ``max_persons`` persons
    are kept, their joints concatenated person-major.

    Required keys: ``keypoint_key``, ``img_shape``; optional
    ``<keypoint_key>_score`` and, with ``match_modality``,
    ``<m>_inds``/``<m>_imgs``, ``pose_inds``.
    Added keys:

    * ``out_key``: float32 ``[num_clips, T, max_persons * K, 3]`` (the
      ``num_clips`` of the sample, default 1, split the frames), rows
      ``(x_cell, y_cell, valid)``; ``valid`` is 1, or 0 for a joint with
      score ``<= score_thr`` (missing; NaN coordinates or scores count as
      missing and are reported by :func:`read_keypoints`) or of an absent
      person, which then has ``x_cell = y_cell = 0``.
    * ``f'{out_key}_shape'``: ``(h, w)``, the grid of the cell coordinates
      (the model's ``F_a`` must have this size, or pass it as
      ``JointTokenizer(..., grid_shape=...)`` to rescale).

    Args:
        feat_shape (tuple[int], optional): ``(h, w)`` of the grid.
        feat_stride (int): ``h, w = H // stride, W // stride`` (used when
            ``feat_shape`` is None). Defaults to 2 (``F_a`` is
            ``H/2 x W/2``).
        score_thr (float): Joints with score ``<= score_thr`` are invalid.
            Defaults to 0.
        match_modality (str, optional): As :class:`JointHeatmaps`.
        max_persons (int): Persons kept (extra dropped, fewer padded with
            invalid joints). Defaults to 2.
        keypoint_key (str): As :class:`JointHeatmaps`. Defaults to
            ``'keypoint'``.
        out_key (str): Defaults to ``'joint_coords'``.
    """

    default_out_key = 'joint_coords'

    def transform(self, results: Dict) -> Dict:
        u, v, valid, _, hw = self._cells(results, self.max_persons)
        m, t, k = u.shape
        out = np.stack([u, v, valid.astype(np.float32)], -1)  # [M, T, K, 3]
        clips = int(results.get('num_clips', 1))
        if t % clips:
            raise ValueError(
                f'Sample {sample_name(results)}: {t} keypoint frames do not '
                f'split into num_clips={clips} clips')
        out = out.transpose(1, 0, 2, 3).reshape(clips, t // clips, m * k, 3)
        results[self.out_key] = np.ascontiguousarray(out, np.float32)
        results[f'{self.out_key}_shape'] = hw
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self._repr_args()})'
