"""How a performance is described, posed and matched.

A class builder (see :mod:`.actions`) turns the action phase ``s`` (0 -> 1
over the part of the clip in which the action happens) into :class:`Actor`
joint-angle curves and RGB-only props; :func:`pose_actor` stands each actor
on the floor, and :func:`solve_depth_twin` derives a class whose 2-D
projection from the front camera copies another's while its depth differs.
All angles given to :meth:`Context.pose` are in degrees.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import body as B

FPS = 30.0


# --------------------------------------------------------------------------
# Data carried from the motion to the renderer
# --------------------------------------------------------------------------
@dataclass
class Capsule:
    """A held or static object drawn in RGB only: a segment with a radius.

    ``p0``/``p1`` are world points ``[T, 3]`` (equal for a sphere).
    """
    p0: np.ndarray
    p1: np.ndarray
    radius: float
    color: tuple  # BGR


@dataclass
class Quad:
    """A flat object drawn in RGB only; ``corners`` are world ``[T, 4, 3]``."""
    corners: np.ndarray
    color: tuple  # BGR


@dataclass
class Actor:
    """One person's motion in their own body frame (see :mod:`.body`).

    Attributes:
        shape: the person's bones.
        pose: DOF name -> ``[T]`` angles (radians).
        plant: which feet stay where they are on the floor: ``'both'``,
            ``'left'``, ``'right'`` or ``'none'`` (the root then only follows
            ``travel``).
        lift: ``[T]`` height added to the root (jumps).
        travel: ``[T, 3]`` root displacement in the body frame (steps).
        yaw: facing in the scene (radians, 0 = towards camera C001).
        offset: ``[3]`` position in the scene.
    """
    shape: B.BodyShape
    pose: dict
    plant: str = 'both'
    lift: np.ndarray | None = None
    travel: np.ndarray | None = None
    yaw: float = 0.0
    offset: np.ndarray = field(default_factory=lambda: np.zeros(3))


@dataclass
class Performance:
    """What a performance looks like in the scene, for every camera.

    Attributes:
        joints: world joint positions ``[M, T, 25, 3]`` (metres, Y up).
        frames: world joint frames ``[M, T, 25, 3, 3]``.
        orientations: Kinect-style bone orientations ``[M, T, 25, 3, 3]``.
        lean: Kinect ``leanX``/``leanY`` per body ``[M, T, 2]``.
        shapes: the bodies' :class:`~.body.BodyShape`.
        props: RGB-only objects (:class:`Capsule`, :class:`Quad`).
    """
    joints: np.ndarray
    frames: np.ndarray
    orientations: np.ndarray
    lean: np.ndarray
    shapes: list
    props: list


@dataclass
class Context:
    """Inputs a class builder draws on.

    Attributes:
        s: ``[T]`` action phase in [0, 1].
        rng: the performance's random generator.
        shapes: the performer's and (for two-person classes) the partner's
            bones.
        front_view: ``points [..., 3] -> [..., 2]``: where body-frame points
            of a single performer appear (normalised image coordinates) to
            the nominal front camera C001, for depth twins.
        idle: ``[T]`` pose offsets common to every class (sway, relaxed
            arms), added by :meth:`pose`.
    """
    s: np.ndarray
    rng: np.random.Generator
    shapes: tuple
    front_view: Callable
    idle: dict

    @property
    def num_frames(self):
        return len(self.s)

    @property
    def seconds(self):
        """Time since the start of the clip ``[T]``."""
        return np.arange(self.num_frames) / FPS

    def pose(self, **angles_deg) -> dict:
        """A pose dict: the idle pose plus the given angles (degrees)."""
        pose = {name: value.copy() for name, value in self.idle.items()}
        for name, value in angles_deg.items():
            pose[name] = pose.get(name, 0) + np.radians(
                np.broadcast_to(value, self.s.shape))
        return pose


# --------------------------------------------------------------------------
# Curve helpers
# --------------------------------------------------------------------------
def keyframes(s, times, values):
    """Eased interpolation through ``(times[i], values[i])`` at phases ``s``.

    Between two keys the curve follows half a cosine, so it starts and stops
    smoothly; outside the keys it holds the end values.
    """
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    idx = np.clip(np.searchsorted(times, s, side='right') - 1,
                  0, len(times) - 2)
    t0, t1 = times[idx], times[idx + 1]
    u = np.clip((s - t0) / np.maximum(t1 - t0, 1e-9), 0, 1)
    u = 0.5 - 0.5 * np.cos(np.pi * u)
    return values[idx] + (values[idx + 1] - values[idx]) * u


def idle_pose(rng: np.random.Generator, num_frames: int) -> dict:
    """Small always-present motion: relaxed arms, sway, head turns."""
    t = np.arange(num_frames) / FPS
    pose = B.neutral_pose((num_frames,))

    def wobble(amplitude_deg, period):
        phase = rng.uniform(0, 2 * np.pi)
        period = period * rng.uniform(0.7, 1.4)
        return np.radians(amplitude_deg) * np.sin(
            2 * np.pi * t / period + phase)

    for side in 'lr':
        pose[f'{side}_sh_abd'] += np.radians(rng.uniform(5, 12)) + wobble(2, 3)
        pose[f'{side}_elbow'] += np.radians(rng.uniform(5, 15))
    pose['pelvis_roll'] += wobble(1.5, 4)
    pose['spine_pitch'] += np.radians(rng.uniform(-3, 5)) + wobble(1, 3)
    pose['neck_yaw'] += wobble(6, 5)
    pose['neck_pitch'] += np.radians(rng.uniform(-4, 6))
    return pose


# --------------------------------------------------------------------------
# Posing (body frame -> scene)
# --------------------------------------------------------------------------
def pose_actor(actor: Actor):
    """Joint positions/frames of an actor in its body frame, feet on floor.

    Returns ``(positions [T, 25, 3], frames [T, 25, 3, 3], root [T, 3])``.
    """
    shape = actor.shape
    T = len(next(iter(actor.pose.values())))
    root = np.tile([0.0, B.standing_root_height(shape), 0.0], (T, 1))
    positions, _ = B.forward_kinematics(shape, actor.pose, root)
    rest, _ = B.forward_kinematics(shape, B.neutral_pose(()))
    planted = {'both': [B.L_ANKLE, B.R_ANKLE], 'left': [B.L_ANKLE],
               'right': [B.R_ANKLE], 'none': []}[actor.plant]
    # Lowest point of the standing feet: the ankle (ANKLE_HEIGHT above the
    # sole) or the toes. One planted foot: the other one is in the air.
    ankles = planted if len(planted) == 1 else [B.L_ANKLE, B.R_ANKLE]
    toes = [B.L_FOOT if a == B.L_ANKLE else B.R_FOOT for a in ankles]
    sole = np.minimum(positions[:, ankles, 1].min(1) - B.ANKLE_HEIGHT,
                      positions[:, toes, 1].min(1) - rest[B.L_FOOT, 1])
    root[:, 1] -= sole
    if planted:
        slide = (positions[:, planted, :].mean(1)
                 - rest[planted, :].mean(0))
        root[:, [0, 2]] -= slide[:, [0, 2]]
    if actor.lift is not None:
        root[:, 1] += actor.lift
    if actor.travel is not None:
        root += actor.travel
    positions, frames = B.forward_kinematics(shape, actor.pose, root)
    return positions, frames, root


def front_view(front_camera, facing=np.eye(3), shift=np.zeros(3)):
    """Projection of body-frame points to the nominal front camera C001.

    The body is turned by ``facing`` and moved by ``shift`` in the scene;
    the camera stands at ``(0, height, distance)`` looking along -Z (Kinect
    camera x points to the sensor's left, i.e. the scene's -X).
    Returns a function ``points [..., 3] -> normalised image coords [..., 2]``.
    """
    height, distance = front_camera

    def view(points):
        p = points @ facing.T + shift
        depth = distance - p[..., 2]
        return np.stack([-p[..., 0] / depth, (p[..., 1] - height) / depth], -1)
    return view


def solve_depth_twin(actor: Actor, root, probes, setter: Callable, ranges,
                     steps, view, weights=None, groups=None,
                     sweeps=2) -> np.ndarray:
    """Per-frame values of free angles that keep joints' 2-D projections.

    The twin pose is the actor's pose changed by ``setter(pose, values)``
    (``values[..., k]`` = the k-th free angle, radians). For every frame the
    free angles are searched so that joints ``probes`` project, from the
    nominal front camera, as close as possible to where the actor's current
    pose projects them (squared error, ``weights`` per probe). Angles are
    searched group by group (coordinate descent): a coarse grid over
    ``ranges`` then a fine one around the best; later sweeps refine only.

    Args:
        actor: the reference motion.
        root: ``[T, 3]`` the actor's root trajectory (the twin's stance must
            not depend on the free angles).
        probes: joint indices to match.
        setter: ``(pose dict of [T, N] arrays, values [T, N, D]) -> pose``.
        ranges: ``[(low, high), ...]`` degrees, one per free angle.
        steps: ``[(coarse, fine), ...]`` degrees, one per free angle.
        view: body-frame points -> image coordinates (:func:`front_view`).
        groups: lists of angle indices searched together (default: all).
        sweeps: passes over the groups when there are several.

    Returns:
        ``[T, D]`` the free angles (radians).
    """
    probes = list(probes)
    weights = np.ones(len(probes)) if weights is None else np.asarray(weights)
    reference, _ = B.forward_kinematics(actor.shape, actor.pose, root)
    target = view(reference[:, probes])
    T, D = len(root), len(ranges)
    low = np.radians([r[0] for r in ranges])
    high = np.radians([r[1] for r in ranges])
    groups = groups or [list(range(D))]

    def mesh(axes):
        grids = np.meshgrid(*axes, indexing='ij')
        return np.stack([g.ravel() for g in grids], -1)     # [N, len(axes)]

    def best_of(candidates):                                 # [T, N, D]
        batch = {name: value[:, None] for name, value in actor.pose.items()}
        batch = setter(batch, candidates)
        positions, _ = B.forward_kinematics(actor.shape, batch, root[:, None])
        seen = view(positions[:, :, probes])
        error = (((seen - target[:, None]) ** 2).sum(-1) * weights).sum(-1)
        pick = np.argmin(error, axis=1)
        return candidates[np.arange(T), pick]                # [T, D]

    def search(current, group, values):                      # values [N, |g|]
        candidates = np.repeat(current[:, None], values.shape[-2], axis=1)
        candidates[..., group] = np.clip(values, low[group], high[group])
        return best_of(candidates)

    current = np.clip(np.zeros((T, D)), low, high)
    for sweep in range(sweeps if len(groups) > 1 else 1):
        for group in groups:
            if sweep == 0:
                coarse = mesh([np.radians(np.arange(
                    ranges[k][0], ranges[k][1] + 1e-6, steps[k][0]))
                    for k in group])
                current = search(current, group, coarse[None])
            fine = mesh([np.radians(np.arange(
                -steps[k][0], steps[k][0] + 1e-6, steps[k][1]))
                for k in group])
            current = search(current, group,
                             current[:, None, group] + fine[None])
    return current


def action_phase(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """Phase ``[T]`` of the action: random start/end idle and tempo warp."""
    start = rng.uniform(0.03, 0.18) * num_frames
    end = num_frames - rng.uniform(0.03, 0.15) * num_frames
    u = np.clip((np.arange(num_frames) - start) / (end - start), 0, 1)
    return u ** rng.uniform(0.8, 1.25)
