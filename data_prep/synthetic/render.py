"""Cameras, a textured room and a z-buffered capsule renderer.

Camera space is Kinect v2's: ``x`` to the sensor's left, ``y`` up, ``z``
along the optical axis (metres). A camera-space point projects to
``u = cx + fx * x / z``, ``v = cy - fy * y / z`` -- the convention of NTU's
``.skeleton`` files (a joint with ``x > 0`` has ``colorX > 960``). The
colour and depth cameras share their optical centre here (the real Kinect
has a ~5 cm baseline).

Bodies are unions of capsules (cylinders with round ends) and spheres; held
objects are capsules and flat quads. Every pixel keeps the nearest surface,
its label and a shading term ``h`` in [0, 1] (1 where the surface faces the
camera), from which RGB, masked depth and IR frames are composed.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import body as B
from .motions import Capsule, Quad

#: Kinect v2 colour and depth cameras: (fx, fy, cx, cy) at full resolution.
COLOR_SIZE = (1920, 1080)
COLOR_INTRINSICS = (1060.0, 1060.0, 960.0, 540.0)
DEPTH_SIZE = (512, 424)
DEPTH_INTRINSICS = (365.0, 365.0, 256.0, 212.0)

#: Azimuth (degrees) of NTU's three cameras around the performer.
CAMERA_AZIMUTH = {1: 0.0, 2: 45.0, 3: -45.0}


def scaled_intrinsics(intrinsics, full_size, size):
    """Intrinsics of a camera whose image is resized to ``size`` (w, h)."""
    sx, sy = size[0] / full_size[0], size[1] / full_size[1]
    fx, fy, cx, cy = intrinsics
    return fx * sx, fy * sy, cx * sx, cy * sy


def project(points, intrinsics):
    """Pixel coordinates ``[..., 2]`` of camera-space points ``[..., 3]``."""
    fx, fy, cx, cy = intrinsics
    z = np.maximum(points[..., 2], 1e-6)
    return np.stack([cx + fx * points[..., 0] / z,
                     cy - fy * points[..., 1] / z], -1)


@dataclass
class Camera:
    """A camera pose: ``rotation`` rows are the camera axes in the world."""
    rotation: np.ndarray
    position: np.ndarray

    def to_camera(self, points):
        """World points ``[..., 3]`` -> camera space."""
        return (np.asarray(points) - self.position) @ self.rotation.T

    def ray_directions(self, intrinsics, size):
        """World direction ``[H, W, 3]`` of the ray through each pixel."""
        fx, fy, cx, cy = intrinsics
        u, v = np.meshgrid(np.arange(size[0]), np.arange(size[1]))
        d = np.stack([(u - cx) / fx, -(v - cy) / fy, np.ones(u.shape)], -1)
        return d @ self.rotation


def look_at(position, target, roll=0.0) -> Camera:
    """A Kinect-convention camera at ``position`` looking at ``target``."""
    position = np.asarray(position, np.float64)
    forward = np.asarray(target, np.float64) - position
    forward /= np.linalg.norm(forward)
    left = np.cross([0.0, 1.0, 0.0], forward)
    left /= np.linalg.norm(left)
    up = np.cross(forward, left)
    c, s = np.cos(roll), np.sin(roll)
    left, up = c * left + s * up, -s * left + c * up
    return Camera(np.stack([left, up, forward]), position)


@dataclass(frozen=True)
class Setup:
    """Where the cameras stand in one recording setup (``S`` in names)."""
    camera_height: float
    distance: float
    room_seed: int


def setup_layout(seed: int, setup: int) -> Setup:
    """Camera height/distance and room of a setup (deterministic)."""
    rng = np.random.default_rng([seed, 1000 + setup])
    return Setup(camera_height=float(rng.uniform(0.85, 1.3)),
                 distance=float(rng.uniform(2.8, 3.3)),
                 room_seed=int(rng.integers(2 ** 31)))


def place_camera(layout: Setup, camera_id: int, rng) -> Camera:
    """Camera ``camera_id`` of a setup, with small per-clip jitter."""
    azimuth = np.radians(CAMERA_AZIMUTH[camera_id] + rng.uniform(-2, 2))
    distance = layout.distance + rng.uniform(-0.08, 0.08)
    height = layout.camera_height + rng.uniform(-0.04, 0.04)
    position = np.array([distance * np.sin(azimuth), height,
                         distance * np.cos(azimuth)])
    target = np.array([rng.uniform(-0.05, 0.05), rng.uniform(0.85, 1.0), 0.0])
    return look_at(position, target, roll=np.radians(rng.uniform(-1.5, 1.5)))


# --------------------------------------------------------------------------
# The room (background)
# --------------------------------------------------------------------------
def _value_noise(a, b, grid, cell):
    """Smooth noise: bilinear interpolation of ``grid`` at ``(a, b)/cell``."""
    gh, gw = grid.shape
    fa, fb = a / cell, b / cell
    i0, j0 = np.floor(fa).astype(int), np.floor(fb).astype(int)
    ta, tb = fa - i0, fb - j0
    i0, j0 = i0 % gh, j0 % gw
    i1, j1 = (i0 + 1) % gh, (j0 + 1) % gw
    top = grid[i0, j0] * (1 - tb) + grid[i0, j1] * tb
    bottom = grid[i1, j0] * (1 - tb) + grid[i1, j1] * tb
    return top * (1 - ta) + bottom * ta


class Room:
    """A box-shaped room with a tiled floor, painted walls and posters.

    The performer stands near the origin; the walls are at
    ``x = +-half_width``, ``z = back`` (behind the performer as seen from
    C001) and ``z = front`` (behind the cameras); the ceiling at ``height``.
    """

    def __init__(self, seed: int):
        rng = np.random.default_rng(seed)
        self.half_width = rng.uniform(3.2, 4.0)
        self.back = -rng.uniform(2.0, 2.8)
        self.front = 5.0
        self.height = rng.uniform(2.6, 3.0)
        # surfaces: 0 floor, 1 ceiling, 2 -x wall, 3 +x wall, 4 back, 5 front
        hue = rng.uniform(0, 180, 6)
        sat = np.r_[rng.uniform(40, 120), 10, rng.uniform(20, 90, 4)]
        val = np.r_[rng.uniform(90, 150), 220, rng.uniform(150, 220, 4)]
        hsv = np.stack([hue, sat, val], -1).astype(np.uint8)[None]
        self.colors = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0].astype(
            np.float32)
        self.ir_albedo = rng.uniform(0.45, 0.8, 6)
        self.tile = rng.uniform(0.4, 0.7)
        self.noise = rng.uniform(-1, 1, (6, 16, 16))
        self.grain = rng.uniform(-1, 1, (6, 64, 64))
        # posters: (surface, a0, a1, b0, b1, bgr)
        self.posters = []
        for surface in (2, 3, 4, 4, 4, 5):
            for _ in range(rng.integers(1, 3)):
                w, h = rng.uniform(0.4, 1.2), rng.uniform(0.4, 1.0)
                a0 = rng.uniform(-2.5, 2.5 - w)
                b0 = rng.uniform(0.6, 2.2 - h)
                color = rng.integers(20, 236, 3).astype(np.float32)
                self.posters.append((surface, a0, a0 + w, b0, b0 + h, color))

    def _hit(self, origin, directions):
        """Surface id, wall coordinates (a, b) and distance of each ray."""
        d = directions
        with np.errstate(divide='ignore', invalid='ignore'):
            tx = np.where(d[..., 0] > 0, self.half_width - origin[0],
                          -self.half_width - origin[0]) / d[..., 0]
            ty = np.where(d[..., 1] > 0, self.height - origin[1],
                          -origin[1]) / d[..., 1]
            tz = np.where(d[..., 2] > 0, self.front - origin[2],
                          self.back - origin[2]) / d[..., 2]
        t = np.stack([tx, ty, tz], -1)
        t = np.where(np.isfinite(t) & (t > 0), t, np.inf)
        axis = np.argmin(t, -1)
        dist = np.take_along_axis(t, axis[..., None], -1)[..., 0]
        p = origin + d * dist[..., None]
        positive = np.take_along_axis(d, axis[..., None], -1)[..., 0] > 0
        surface = np.select([axis == 1, axis == 0, axis == 2],
                            [np.where(positive, 1, 0),
                             np.where(positive, 3, 2),
                             np.where(positive, 5, 4)])
        a = np.select([axis == 1, axis == 0], [p[..., 0], p[..., 2]],
                      p[..., 0])
        b = np.select([axis == 1], [p[..., 2]], p[..., 1])
        return surface, a, b, dist * np.linalg.norm(d, axis=-1)

    def render(self, camera: Camera, intrinsics, size):
        """The empty room: BGR ``[H, W, 3]`` and IR ``[H, W]``, float32."""
        directions = camera.ray_directions(intrinsics, size)
        surface, a, b, dist = self._hit(camera.position, directions)
        color = self.colors[surface].copy()
        shade = np.ones(surface.shape, np.float32)
        for k in range(6):
            sel = surface == k
            if not sel.any():
                continue
            a_k, b_k = a[sel], b[sel]
            shade[sel] += 0.12 * _value_noise(a_k, b_k, self.noise[k], 0.7)
            shade[sel] += 0.04 * _value_noise(a_k, b_k, self.grain[k], 0.05)
        floor = surface == 0
        checker = (np.floor(a / self.tile) + np.floor(b / self.tile)) % 2
        shade[floor] *= 1 - 0.12 * checker[floor]
        walls = surface >= 2
        shade[walls & (b < 0.1)] *= 0.6          # skirting board
        for k, a0, a1, b0, b1, poster in self.posters:
            sel = (surface == k) & (a > a0) & (a < a1) & (b > b0) & (b < b1)
            color[sel] = poster
        light = 1.0 / (1.0 + 0.015 * dist ** 2)
        bgr = color * (shade * light)[..., None]
        ir = 255 * self.ir_albedo[surface] * shade * np.minimum(
            1.0, (2.2 / dist) ** 2)
        return bgr.astype(np.float32), ir.astype(np.float32)


# --------------------------------------------------------------------------
# People's appearance
# --------------------------------------------------------------------------
ROLES = ('skin', 'hair', 'shirt', 'sleeve', 'trousers', 'shoes')
_SKIN = ((150, 180, 225), (120, 160, 210), (95, 135, 190), (70, 100, 150),
         (50, 70, 110))
_HAIR = ((25, 25, 30), (30, 45, 70), (40, 80, 130), (120, 130, 140))
_TROUSERS = ((90, 50, 30), (40, 40, 40), (110, 110, 110), (110, 150, 170),
             (60, 90, 60), (130, 90, 60))
_SHOES = ((30, 30, 30), (200, 200, 200), (40, 50, 90))


def sample_appearance(rng: np.random.Generator) -> dict:
    """Clothing and skin colours (BGR) and IR reflectance of a person."""
    hue = rng.uniform(25, 175)     # no reds/oranges: skin tones, the cup
    shirt_hsv = np.array([[[hue, rng.uniform(120, 240),
                            rng.uniform(90, 230)]]], np.uint8)
    shirt = cv2.cvtColor(shirt_hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(float)
    look = dict(skin=_SKIN[rng.integers(len(_SKIN))],
                hair=_HAIR[rng.integers(len(_HAIR))], shirt=tuple(shirt),
                trousers=_TROUSERS[rng.integers(len(_TROUSERS))],
                shoes=_SHOES[rng.integers(len(_SHOES))])
    look['sleeve'] = look['shirt'] if rng.random() < 0.5 else look['skin']
    look['ir_albedo'] = float(rng.uniform(0.8, 1.0))
    return look


#: Body capsules: (joint a, joint b, radius in metres, role).
BODY_PARTS = []
for _a, _b, _r, _role in (
        (B.SPINE_BASE, B.SPINE_MID, 0.13, 'shirt'),
        (B.SPINE_MID, B.SPINE_SHOULDER, 0.14, 'shirt'),
        (B.L_SHOULDER, B.R_SHOULDER, 0.065, 'shirt'),
        (B.L_HIP, B.R_HIP, 0.1, 'trousers'),
        (B.SPINE_SHOULDER, B.NECK, 0.05, 'skin'),
        (B.NECK, B.HEAD, 0.05, 'skin')):
    BODY_PARTS.append((_a, _b, _r, _role))
for _sh, _el, _wr, _tip, _hip, _kn, _an, _ft in (
        (B.L_SHOULDER, B.L_ELBOW, B.L_WRIST, B.L_HAND_TIP,
         B.L_HIP, B.L_KNEE, B.L_ANKLE, B.L_FOOT),
        (B.R_SHOULDER, B.R_ELBOW, B.R_WRIST, B.R_HAND_TIP,
         B.R_HIP, B.R_KNEE, B.R_ANKLE, B.R_FOOT)):
    BODY_PARTS += [(_sh, _el, 0.05, 'shirt'), (_el, _wr, 0.04, 'sleeve'),
                   (_wr, _tip, 0.037, 'skin'), (_hip, _kn, 0.075, 'trousers'),
                   (_kn, _an, 0.055, 'trousers'), (_an, _ft, 0.045, 'shoes')]
HEAD_RADIUS = 0.1


def body_capsules(joints_cam, frames_cam, shape):
    """Capsules ``(p0 [T,3], p1 [T,3], radius, role)`` of one body."""
    out = [(joints_cam[:, a], joints_cam[:, b], r * shape.girth, role)
           for a, b, r, role in BODY_PARTS]
    head = joints_cam[:, B.HEAD]
    hair = head + frames_cam[:, B.NECK] @ np.array([0.0, 0.03, -0.03])
    out.append((hair, hair, HEAD_RADIUS, 'hair'))
    out.append((head, head, HEAD_RADIUS, 'skin'))
    return out


# --------------------------------------------------------------------------
# Rasterisation
# --------------------------------------------------------------------------
class ZBuffer:
    """Nearest-surface depth, label and shading of every pixel."""

    def __init__(self, size):
        w, h = size
        self.depth = np.full((h, w), np.inf, np.float32)
        self.label = np.full((h, w), -1, np.int16)
        self.shade = np.zeros((h, w), np.float32)

    def _window(self, x0, x1, y0, y1):
        h, w = self.depth.shape
        x0, y0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
        x1, y1 = min(int(np.ceil(x1)) + 1, w), min(int(np.ceil(y1)) + 1, h)
        if x0 >= x1 or y0 >= y1:
            return None
        return x0, x1, y0, y1

    def _write(self, win, inside, depth, shade, label):
        x0, x1, y0, y1 = win
        zs = self.depth[y0:y1, x0:x1]
        closer = depth < zs
        closer &= inside
        np.copyto(zs, depth, where=closer)
        np.copyto(self.label[y0:y1, x0:x1], label, where=closer)
        np.copyto(self.shade[y0:y1, x0:x1], shade, where=closer)

    def capsule(self, ax, ay, bx, by, ra, rb, za, zb, radius, label):
        """Draws a capsule from its projection.

        ``(ax, ay)``/``(bx, by)``: the end centres in pixels, ``ra``/``rb``
        their radii in pixels, ``za``/``zb`` their depths, ``radius`` the
        radius in metres (for the depth of the round surface).
        """
        win = self._window(min(ax - ra, bx - rb), max(ax + ra, bx + rb),
                           min(ay - ra, by - rb), max(ay + ra, by + rb))
        if win is None:
            return
        x0, x1, y0, y1 = win
        px = np.arange(x0 - ax, x1 - ax, dtype=np.float32)[None, :]
        py = np.arange(y0 - ay, y1 - ay, dtype=np.float32)[:, None]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        if length2 > 1e-6:
            # t: where along the segment the closest point of each pixel is
            t = px * (dx / length2) + py * (dy / length2)
            np.maximum(t, 0, out=t)
            np.minimum(t, 1, out=t)
            ex = t * dx
            ex -= px
            ey = t * dy
            ey -= py
            r = t * (rb - ra)
            r += ra
            depth = t * (zb - za)
            depth += za
        else:
            ex = np.broadcast_to(px, (y1 - y0, x1 - x0))
            ey, r = py, ra
            depth = np.full(ex.shape, za, np.float32)
        d2 = ex * ex
        d2 += ey * ey
        d2 /= r * r
        inside = d2 < 1
        h = np.subtract(1, d2, out=d2)
        np.maximum(h, 0, out=h)
        np.sqrt(h, out=h)
        depth -= radius * h
        self._write(win, inside, depth, h, label)

    def quad(self, corners, label, intrinsics, shade=0.8):
        """Draws a flat convex quad (corners ``[4, 3]`` in camera space)."""
        if corners[:, 2].min() < 0.3:
            return
        uv = project(corners, intrinsics)
        win = self._window(uv[:, 0].min(), uv[:, 0].max(),
                           uv[:, 1].min(), uv[:, 1].max())
        if win is None:
            return
        x0, x1, y0, y1 = win
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        pts = np.round((uv - (x0, y0)) * 16).astype(np.int32)
        cv2.fillConvexPoly(mask, pts, 1, lineType=cv2.LINE_8, shift=4)
        # on a plane, 1/z is an affine function of the pixel coordinates
        design = np.c_[uv, np.ones(4)]
        coef = np.linalg.lstsq(design, 1 / corners[:, 2], rcond=None)[0]
        px = np.arange(x0, x1)[None, :]
        py = np.arange(y0, y1)[:, None]
        inverse = coef[0] * px + coef[1] * py + coef[2]
        depth = (1 / np.maximum(inverse, 1e-3)).astype(np.float32)
        self._write(win, mask.astype(bool), depth,
                    np.full(mask.shape, shade, np.float32), label)


class Scene:
    """Everything one camera sees of a performance, ready to rasterise.

    Args:
        performance: the :class:`~.motions.Performance`.
        camera: the camera pose.
        looks: per-body appearance dicts (:func:`sample_appearance`).
    """

    def __init__(self, performance, camera: Camera, looks):
        self.camera = camera
        R = camera.rotation
        self.joints = camera.to_camera(performance.joints)   # [M, T, 25, 3]
        frames = R @ performance.frames                      # [M, T, 25, 3, 3]
        self.orientations = R @ performance.orientations
        self.num_frames = self.joints.shape[1]
        self.capsules = []   # (p0 [T,3], p1 [T,3], radius, label)
        palette = []
        for m, shape in enumerate(performance.shapes):
            for p0, p1, radius, role in body_capsules(self.joints[m],
                                                      frames[m], shape):
                self.capsules.append((p0, p1, radius,
                                      m * len(ROLES) + ROLES.index(role)))
            palette += [looks[m][role] for role in ROLES]
        self.num_body_labels = len(palette)
        self.ir_albedo = np.array([looks[m]['ir_albedo']
                                   for m in range(len(performance.shapes))])
        self.props = []
        for prop in performance.props:
            label = len(palette)
            palette.append(prop.color)
            if isinstance(prop, Capsule):
                self.props.append(('capsule', camera.to_camera(prop.p0),
                                   camera.to_camera(prop.p1), prop.radius,
                                   label))
            elif isinstance(prop, Quad):
                self.props.append(('quad', camera.to_camera(prop.corners),
                                   None, None, label))
        self.palette = np.asarray(palette, np.float32)
        self._cache = {}

    def _projected(self, intrinsics, with_props):
        """Per-frame projections of all capsules (cached per camera model).

        Returns ``(rows [T] of [K, 8] lists, radii, labels)``: for each frame
        and capsule ``ax, ay, bx, by, ra, rb, za, zb``; capsules closer than
        0.3 m are dropped per frame.
        """
        key = (tuple(intrinsics), with_props)
        if key not in self._cache:
            capsules = list(self.capsules)
            if with_props:
                capsules += [(a, b, radius, label)
                             for kind, a, b, radius, label in self.props
                             if kind == 'capsule']
            p0 = np.stack([c[0] for c in capsules], 1)     # [T, K, 3]
            p1 = np.stack([c[1] for c in capsules], 1)
            radii = np.array([c[2] for c in capsules])
            labels = [c[3] for c in capsules]
            uv0, uv1 = project(p0, intrinsics), project(p1, intrinsics)
            z0, z1 = p0[..., 2], p1[..., 2]
            fx = intrinsics[0]
            table = np.concatenate([uv0, uv1, (fx * radii / np.maximum(
                z0, 1e-3))[..., None], (fx * radii / np.maximum(
                    z1, 1e-3))[..., None], z0[..., None], z1[..., None]], -1)
            visible = (z0 > 0.3) & (z1 > 0.3)
            rows = [[(row, radii[k], labels[k]) for k, row in
                     enumerate(table[t].tolist()) if visible[t, k]]
                    for t in range(self.num_frames)]
            self._cache[key] = rows
        return self._cache[key]

    def rasterize(self, t, intrinsics, size, with_props):
        """The z-buffer of frame ``t``."""
        zb = ZBuffer(size)
        for row, radius, label in self._projected(intrinsics, with_props)[t]:
            zb.capsule(*row, radius, label)
        if with_props:
            for kind, a, _, _, label in self.props:
                if kind == 'quad':
                    zb.quad(a[t], label, intrinsics)
        return zb


def compose_rgb(zb: ZBuffer, palette, background, grain, gain):
    """RGB frame (uint8 BGR) from a z-buffer over the room background."""
    img = background.copy()
    hit = zb.label >= 0
    lit = 0.5 + 0.5 * zb.shade[hit]
    img[hit] = palette[zb.label[hit]] * (gain * lit)[:, None]
    img += grain
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8)


def compose_depth(zb: ZBuffer, num_body_labels, noise_mm):
    """Masked depth (uint16 mm, 0 = background) from a z-buffer."""
    hit = (zb.label >= 0) & (zb.label < num_body_labels)
    out = np.zeros(zb.depth.shape, np.uint16)
    out[hit] = np.clip(np.round(zb.depth[hit] * 1000 + noise_mm[hit]),
                       1, 65535).astype(np.uint16)
    return out


def compose_ir(zb: ZBuffer, background_ir, albedo_by_label, grain):
    """IR frame (uint8 gray): bright, depth-attenuated bodies on the room."""
    img = background_ir.copy()
    hit = zb.label >= 0
    z = zb.depth[hit]
    img[hit] = (235 * albedo_by_label[zb.label[hit]]
                * (0.45 + 0.55 * zb.shade[hit])
                * np.minimum(1, (2.6 / z) ** 2))
    img += grain
    return np.clip(img, 0, 255).astype(np.uint8)
