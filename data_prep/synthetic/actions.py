"""The action classes of the synthetic dataset and how each is performed.

A class is a function of the action phase ``s`` (0 -> 1 over the part of
the clip in which the action happens) that returns joint-angle curves for one
or two people plus the objects they hold. The classes are built so that the
modalities complement each other:

* *depth* pairs (``kick forward``/``kick backward``, ``bow``/``lean
  backward``): the second class is the first's **depth twin** -- its free
  angles are solved frame by frame so that the probed joints project, from
  the nominal front camera (C001), where the first class's joints project
  (:func:`~.motions.solve_depth_twin`). The two look alike in RGB and 2-D
  keypoints from the front but move towards vs. away from the camera.
* *appearance* pairs (``drink water``/``make a phone call``,
  ``reading``/``writing``): identical joint trajectories, different held
  objects. The objects are drawn in RGB only (they are thin or flat and the
  depth is body-masked, as NTU's), so depth, IR and skeleton cannot tell the
  pair apart.
* *motion* classes (waving, sitting down, standing up, jumping, clapping;
  the chair of sitting down / standing up is an RGB-only object too) and
  *two-person* classes (handshake, hugging, pushing).

Angles are in degrees unless a name says otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import body as B
from .motions import (Actor, Capsule, Context, Performance, Quad,
                      action_phase, front_view, idle_pose, keyframes,
                      pose_actor, solve_depth_twin)

# --------------------------------------------------------------------------
# Held objects (RGB only)
# --------------------------------------------------------------------------
RED = (40, 40, 210)
BLACK = (30, 28, 28)
BOOK_BLUE = (140, 70, 25)
PAPER = (190, 240, 245)
PEN_ORANGE = (20, 140, 250)
WOOD = (40, 75, 120)


def _in_hand(P, F, m, hand, local):
    """World points ``[T, 3]`` at ``local`` offset in a hand's frame."""
    elbow = B.L_ELBOW if hand == B.L_HAND else B.R_ELBOW
    return P[m, :, hand] + F[m, :, elbow] @ np.asarray(local, np.float64)


def _held_capsule(hand, a, b, radius, color, m=0):
    """A capsule held in a hand, ``a``/``b`` in the forearm's frame."""
    def make(P, F):
        return [Capsule(_in_hand(P, F, m, hand, a), _in_hand(P, F, m, hand, b),
                        radius, color)]
    return make


def cup(P, F):
    """A red mug in the right hand, upright along the forearm."""
    return _held_capsule(B.R_HAND, (0, 0.04, 0.06), (0, -0.05, 0.06),
                         0.05, RED)(P, F)


def phone(P, F):
    """A black phone in the right hand: slimmer and longer than the cup."""
    return _held_capsule(B.R_HAND, (0, 0.07, 0.04), (0, -0.09, 0.04),
                         0.03, BLACK)(P, F)


def _quad(center, u, v, half_u, half_v):
    return np.stack([center - half_u * u - half_v * v,
                     center + half_u * u - half_v * v,
                     center + half_u * u + half_v * v,
                     center - half_u * u + half_v * v], axis=-2)


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def book(P, F):
    """An open book held between the hands, cover towards the camera."""
    left, right = P[0, :, B.L_HAND], P[0, :, B.R_HAND]
    across = _unit(left - right)
    facing = _unit(F[0, :, B.SPINE_SHOULDER, :, 2])   # the torso's +Z
    up = _unit(np.cross(facing, across) * -1)
    tilt = _unit(up + 0.6 * facing)
    center = (left + right) / 2 + 0.04 * facing + 0.02 * tilt
    return [Quad(_quad(center, across, tilt, 0.17, 0.12), BOOK_BLUE)]


def pen_and_pad(P, F):
    """A notepad in the left hand and a pen in the right hand."""
    left = P[0, :, B.L_HAND]
    facing = _unit(F[0, :, B.SPINE_SHOULDER, :, 2])
    sideways = _unit(F[0, :, B.SPINE_SHOULDER, :, 0])
    up = _unit(np.cross(sideways, facing))
    tilt = _unit(up + 0.6 * facing)
    center = left - 0.06 * sideways + 0.03 * facing
    pad = Quad(_quad(center, sideways, tilt, 0.07, 0.1), PAPER)
    pen = _held_capsule(B.R_HAND, (0, 0.02, 0.02), (0, -0.12, 0.06),
                        0.012, PEN_ORANGE)(P, F)
    return [pad] + pen


def chair(P, F, seated_frame):
    """A static chair under the pelvis of body 0 at ``seated_frame``."""
    root = P[0, seated_frame, B.SPINE_BASE]
    facing = F[0, seated_frame, B.SPINE_BASE, :, 2].copy()
    facing[1] = 0
    facing = _unit(facing)
    side = np.cross(np.array([0.0, 1.0, 0.0]), facing)
    T = P.shape[1]
    seat_h = max(root[1] - 0.12, 0.3)
    center = np.array([root[0], seat_h, root[2]]) + 0.05 * facing
    up = np.array([0.0, 1.0, 0.0])
    prims = [Quad(np.tile(_quad(center, side, facing, 0.22, 0.22), (T, 1, 1)),
                  WOOD)]
    back = center - 0.22 * facing + 0.25 * up
    prims.append(Quad(np.tile(_quad(back, side, up, 0.22, 0.2), (T, 1, 1)),
                      WOOD))
    for a in (-0.2, 0.2):
        for b in (-0.2, 0.2):
            top = center + a * side + b * facing
            foot = top.copy()
            foot[1] = 0.0
            prims.append(Capsule(np.tile(top, (T, 1)), np.tile(foot, (T, 1)),
                                 0.02, WOOD))
    return prims


# --------------------------------------------------------------------------
# Single-person classes
# --------------------------------------------------------------------------
def _kick_forward(ctx: Context):
    s, amp = ctx.s, ctx.rng.uniform(0.85, 1.15)
    keys = [0, 0.25, 0.45, 0.6, 0.8, 1]
    pose = ctx.pose(
        r_hip_flex=amp * keyframes(s, keys, [0, 40, 65, 60, 30, 0]),
        r_knee=keyframes(s, keys, [0, 60, 8, 12, 40, 0]),
        r_ankle=keyframes(s, keys, [0, 10, 30, 30, 10, 0]),
        l_sh_elev=keyframes(s, keys, [0, 20, 25, 25, 15, 0]),
        r_sh_elev=keyframes(s, keys, [0, 20, 25, 25, 15, 0]))
    return [Actor(ctx.shapes[0], pose, plant='left')], None


def _kick_backward(ctx: Context):
    """Depth twin of kick forward: hip and knee angles are chosen so that
    the right knee, ankle and foot project as in the forward kick."""
    actors, _ = _kick_forward(ctx)
    actor = actors[0]
    _, _, root = pose_actor(actor)
    abd = actor.pose['r_hip_abd']

    def set_leg(pose, values):
        return dict(pose, r_hip_flex=values[..., 0], r_knee=values[..., 1],
                    r_hip_abd=abd[:, None] + values[..., 2])

    # hip swing and knee bend; a sideways swing makes up for the body not
    # facing the camera exactly
    leg = solve_depth_twin(actor, root, [B.R_KNEE, B.R_ANKLE, B.R_FOOT],
                           set_leg, ranges=[(-100, 0), (0, 150), (-30, 30)],
                           steps=[(5, 1), (10, 2), (5, 1)],
                           view=ctx.front_view, weights=[1, 2, 1],
                           groups=[[0, 1], [2]])
    actor.pose['r_hip_flex'], actor.pose['r_knee'] = leg[:, 0], leg[:, 1]
    actor.pose['r_hip_abd'] = abd + leg[:, 2]
    return actors, None


def _hand_to_face(ctx: Context):
    """Right hand to the mouth/cheek, held there with small sips, lowered."""
    s, rng = ctx.s, ctx.rng
    keys = [0, 0.3, 0.7, 1]
    hold = keyframes(s, keys, [0, 1, 1, 0])
    sips = np.sin(2 * np.pi * rng.uniform(0.5, 1.0) * ctx.seconds)
    return ctx.pose(r_sh_elev=hold * rng.uniform(36, 44),
                    r_sh_plane=hold * -5, r_sh_twist=hold * 20,
                    r_elbow=hold * (rng.uniform(135, 142) + 4 * sips),
                    neck_pitch=hold * -8)


def _drink(ctx):
    return [Actor(ctx.shapes[0], _hand_to_face(ctx))], cup


def _phone_call(ctx):
    return [Actor(ctx.shapes[0], _hand_to_face(ctx))], phone


def _hold_in_front(ctx: Context):
    """Both hands in front of the chest; the right hand makes small moves."""
    s, rng = ctx.s, ctx.rng
    hold = keyframes(s, [0, 0.15, 0.85, 1], [0, 1, 1, 0])
    strokes = np.sin(2 * np.pi * rng.uniform(0.8, 1.6) * ctx.seconds)
    return ctx.pose(l_sh_elev=hold * 20, l_sh_twist=hold * 20,
                    l_elbow=hold * 90, r_sh_elev=hold * (20 + 4 * strokes),
                    r_sh_twist=hold * (20 + 8 * strokes), r_elbow=hold * 90,
                    neck_pitch=hold * rng.uniform(15, 25))


def _reading(ctx):
    return [Actor(ctx.shapes[0], _hold_in_front(ctx))], book


def _writing(ctx):
    return [Actor(ctx.shapes[0], _hold_in_front(ctx))], pen_and_pad


def _bow(ctx: Context):
    """Hands on the hips, the upper body bows forward and comes back."""
    s, amp = ctx.s, ctx.rng.uniform(0.8, 1.2)
    lean = amp * keyframes(s, [0, 0.35, 0.65, 1], [0, 45, 45, 0])
    on_hips = keyframes(s, [0, 0.15, 0.85, 1], [0, 1, 1, 0])
    pose = ctx.pose(pelvis_pitch=lean, neck_pitch=0.2 * lean,
                    l_sh_abd=35 * on_hips, r_sh_abd=35 * on_hips,
                    l_sh_twist=90 * on_hips, r_sh_twist=90 * on_hips,
                    l_elbow=80 * on_hips, r_elbow=80 * on_hips)
    return [Actor(ctx.shapes[0], pose)], None


def _lean_back(ctx: Context):
    """Depth twin of bow: the upper body leans back, by the angle (and with
    the slight sideways lean) that keeps head, shoulders, elbows and hands
    where the bow shows them."""
    actors, _ = _bow(ctx)
    actor = actors[0]
    _, _, root = pose_actor(actor)
    neck = actor.pose['neck_pitch'] - 0.2 * actor.pose['pelvis_pitch']
    roll = actor.pose['pelvis_roll']

    def set_lean(pose, values):
        return dict(pose, pelvis_pitch=values[..., 0],
                    neck_pitch=neck[:, None],
                    pelvis_roll=roll[:, None] + values[..., 1])

    probes = [B.HEAD, B.SPINE_SHOULDER, B.L_SHOULDER, B.R_SHOULDER,
              B.L_ELBOW, B.R_ELBOW, B.L_HAND, B.R_HAND]
    values = solve_depth_twin(actor, root, probes, set_lean,
                              ranges=[(-70, 0), (-25, 25)],
                              steps=[(5, 0.5), (5, 0.5)],
                              view=ctx.front_view,
                              weights=[3, 1, 1, 1, 1, 1, 1, 1],
                              groups=[[0], [1]], sweeps=3)
    actor.pose['pelvis_pitch'] = values[:, 0]
    actor.pose['pelvis_roll'] = roll + values[:, 1]
    actor.pose['neck_pitch'] = neck
    return actors, None


def _wave(ctx: Context):
    s, rng = ctx.s, ctx.rng
    raised = keyframes(s, [0, 0.2, 0.8, 1], [0, 1, 1, 0])
    waves = np.sin(2 * np.pi * rng.uniform(1.5, 2.5) * ctx.seconds)
    pose = ctx.pose(r_sh_elev=raised * rng.uniform(80, 100),
                    r_sh_plane=raised * 80, r_sh_twist=raised * -10,
                    r_elbow=raised * (80 + 25 * waves))
    return [Actor(ctx.shapes[0], pose)], None


def _sit_curves(s):
    keys = [0, 0.5, 1]
    return dict(l_hip_flex=keyframes(s, keys, [0, 55, 90]),
                r_hip_flex=keyframes(s, keys, [0, 55, 90]),
                l_knee=keyframes(s, keys, [0, 50, 90]),
                r_knee=keyframes(s, keys, [0, 50, 90]),
                pelvis_pitch=keyframes(s, [0, 0.45, 1], [0, 35, 5]),
                l_sh_elev=keyframes(s, [0, 0.45, 1], [0, 35, 10]),
                r_sh_elev=keyframes(s, [0, 0.45, 1], [0, 35, 10]))


def _sit_down(ctx: Context):
    pose = ctx.pose(**_sit_curves(ctx.s))
    return [Actor(ctx.shapes[0], pose)], lambda P, F: chair(P, F, -1)


def _stand_up(ctx: Context):
    pose = ctx.pose(**_sit_curves(1 - ctx.s))
    return [Actor(ctx.shapes[0], pose)], lambda P, F: chair(P, F, 0)


def _jump(ctx: Context):
    s, rng = ctx.s, ctx.rng
    keys = [0, 0.3, 0.45, 0.62, 0.78, 1]
    crouch = keyframes(s, keys, [0, 1, 0, 0, 0.8, 0])
    pose = ctx.pose(l_knee=crouch * 70, r_knee=crouch * 70,
                    l_hip_flex=crouch * 45, r_hip_flex=crouch * 45,
                    pelvis_pitch=crouch * 20,
                    l_ankle=keyframes(s, keys, [0, 0, 30, 10, 0, 0]),
                    r_ankle=keyframes(s, keys, [0, 0, 30, 10, 0, 0]),
                    l_sh_elev=keyframes(s, keys, [0, -30, 150, 120, 10, 0]),
                    r_sh_elev=keyframes(s, keys, [0, -30, 150, 120, 10, 0]))
    air = np.clip((s - 0.45) / 0.17, 0, 1)
    lift = 4 * rng.uniform(0.12, 0.22) * air * (1 - air)
    return [Actor(ctx.shapes[0], pose, lift=lift)], None


def _clap(ctx: Context):
    s, rng = ctx.s, ctx.rng
    raised = keyframes(s, [0, 0.15, 0.85, 1], [0, 1, 1, 0])
    claps = 0.5 - 0.5 * np.cos(2 * np.pi * rng.uniform(1.8, 2.8) * ctx.seconds)
    pose = ctx.pose()
    for side in 'lr':
        pose[f'{side}_sh_elev'] = np.radians(raised * 50)
        pose[f'{side}_sh_plane'] = np.radians(raised * (-2 + 25 * claps))
        pose[f'{side}_sh_twist'] = np.radians(raised * 30)
        pose[f'{side}_elbow'] = np.radians(raised * 70)
    return [Actor(ctx.shapes[0], pose)], None


# --------------------------------------------------------------------------
# Two-person classes
# --------------------------------------------------------------------------
def _face_each_other(first: Actor, second: Actor, frame: int,
                     first_point: int, second_point: int, gap):
    """Places two actors facing each other along the scene's X axis.

    At ``frame`` the second actor's joint ``second_point`` lies ``gap``
    metres beyond the first actor's ``first_point``, along the line that
    joins them. The pair is then centred on the origin.
    """
    first.yaw, second.yaw = np.pi / 2, -np.pi / 2
    p1, _, _ = pose_actor(first)
    p2, _, _ = pose_actor(second)
    a = B.rot_y(first.yaw) @ p1[frame, first_point]
    b = B.rot_y(second.yaw) @ p2[frame, second_point]
    offset = a - b + np.array([gap, 0.0, 0.0])
    offset[1] = 0.0
    second.offset = offset
    center = (first.offset + second.offset) / 2
    first.offset = first.offset - center
    second.offset = second.offset - center


def _step(s, keys, values):
    """Forward travel ``[T, 3]`` in the body frame."""
    travel = np.zeros((len(s), 3))
    travel[:, 2] = keyframes(s, keys, values)
    return travel


def _handshake(ctx: Context):
    s, rng = ctx.s, ctx.rng
    keys = [0, 0.3, 0.7, 1]
    reach = keyframes(s, keys, [0, 1, 1, 0])
    shake = np.sin(2 * np.pi * rng.uniform(2.0, 3.0) * ctx.seconds)
    actors = []
    for shape in ctx.shapes:
        pose = ctx.pose(r_sh_elev=reach * (40 + 5 * shake),
                        r_sh_plane=reach * -20, r_sh_twist=reach * 20,
                        r_elbow=reach * 45)
        actors.append(Actor(shape, pose,
                            travel=_step(s, keys, [0, 0.12, 0.12, 0])))
    peak = int(np.argmax(reach))
    _face_each_other(actors[0], actors[1], peak, B.R_HAND, B.R_HAND, 0.0)
    return actors, None


def _hug(ctx: Context):
    s = ctx.s
    keys = [0, 0.3, 0.7, 1]
    hold = keyframes(s, keys, [0, 1, 1, 0])
    actors = []
    for shape, elev in zip(ctx.shapes, (85, 65)):   # arms over / under
        pose = ctx.pose(l_sh_elev=hold * elev, r_sh_elev=hold * elev,
                        l_sh_plane=hold * 25, r_sh_plane=hold * 25,
                        l_sh_twist=hold * 85, r_sh_twist=hold * 85,
                        l_elbow=hold * 75, r_elbow=hold * 75,
                        neck_yaw=hold * 20, pelvis_pitch=hold * 5)
        actors.append(Actor(shape, pose,
                            travel=_step(s, keys, [0, 0.25, 0.25, 0])))
    peak = int(np.argmax(hold))
    _face_each_other(actors[0], actors[1], peak, B.SPINE_SHOULDER,
                     B.SPINE_SHOULDER, 0.3 * ctx.shapes[0].girth)
    return actors, None


def _push(ctx: Context):
    s = ctx.s
    keys = [0, 0.3, 0.45, 0.6, 1]
    contact = 0.45
    pusher = ctx.pose(l_sh_elev=keyframes(s, keys, [0, 60, 80, 80, 0]),
                      r_sh_elev=keyframes(s, keys, [0, 60, 80, 80, 0]),
                      l_sh_plane=-10, r_sh_plane=-10,
                      l_elbow=keyframes(s, keys, [0, 100, 15, 20, 0]),
                      r_elbow=keyframes(s, keys, [0, 100, 15, 20, 0]),
                      pelvis_pitch=keyframes(s, keys, [0, 5, 15, 10, 0]))
    staggered = keyframes(s, [0, contact, 0.65, 1], [0, 0, 1, 0.4])
    pushed = ctx.pose(pelvis_pitch=-15 * staggered,
                      l_sh_elev=40 * staggered, r_sh_elev=40 * staggered,
                      l_sh_plane=60, r_sh_plane=60)
    actors = [
        Actor(ctx.shapes[0], pusher,
              travel=_step(s, keys, [0, 0.1, 0.2, 0.25, 0.1])),
        Actor(ctx.shapes[1], pushed, plant='none',
              travel=_step(s, [0, contact, 0.65, 1], [0, 0, -0.35, -0.3])),
    ]
    frame = int(np.argmin(np.abs(s - contact)))
    _face_each_other(actors[0], actors[1], frame, B.R_HAND, B.SPINE_MID,
                     0.12 * ctx.shapes[1].girth)
    return actors, None


# --------------------------------------------------------------------------
# The class table
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionClass:
    """A synthetic class: its name, what separates it, how it is built."""
    name: str
    kind: str        # 'depth', 'appearance', 'motion' or 'two-person'
    build: Callable
    two_person: bool = False


#: Ordered so that any prefix mixes the kinds; the default uses 12.
ACTION_CLASSES = (
    ActionClass('kick forward', 'depth', _kick_forward),
    ActionClass('kick backward', 'depth', _kick_backward),
    ActionClass('drink water', 'appearance', _drink),
    ActionClass('make a phone call', 'appearance', _phone_call),
    ActionClass('hand waving', 'motion', _wave),
    ActionClass('handshake', 'two-person', _handshake, two_person=True),
    ActionClass('bow', 'depth', _bow),
    ActionClass('lean backward', 'depth', _lean_back),
    ActionClass('reading', 'appearance', _reading),
    ActionClass('writing', 'appearance', _writing),
    ActionClass('sit down', 'motion', _sit_down),
    ActionClass('hugging', 'two-person', _hug, two_person=True),
    ActionClass('stand up', 'motion', _stand_up),
    ActionClass('jump up', 'motion', _jump),
    ActionClass('clapping', 'motion', _clap),
    ActionClass('pushing other person', 'two-person', _push, two_person=True),
)
CLASSES = [c.name for c in ACTION_CLASSES]


# --------------------------------------------------------------------------
# A whole performance
# --------------------------------------------------------------------------
def perform(action: int, shapes, rng: np.random.Generator, num_frames: int,
            front_camera=(1.0, 3.0)) -> Performance:
    """Performs class ``action`` (1-based) with the given bodies.

    Args:
        action: 1-based index into :data:`ACTION_CLASSES`.
        shapes: ``(performer, partner)`` bodies; the partner is used by
            two-person classes only.
        rng: draws everything random about the performance (the same draws
            for a class and its twin, so they can be compared).
        num_frames: clip length.
        front_camera: nominal ``(height, distance)`` of camera C001.
    """
    spec = ACTION_CLASSES[action - 1]
    # facing and position jitter of the whole scene
    facing = B.rot_y(np.radians(rng.uniform(-10, 10)))
    shift = np.array([rng.uniform(-0.15, 0.15), 0, rng.uniform(-0.2, 0.2)])
    s = action_phase(rng, num_frames)
    idle = idle_pose(rng, num_frames)
    ctx = Context(s=s, rng=rng, shapes=tuple(shapes), idle=idle,
                  front_view=front_view(front_camera, facing, shift))
    actors, props = spec.build(ctx)

    joints, frames, orientations, lean = [], [], [], []
    for actor in actors:
        P, F, _ = pose_actor(actor)
        R = facing @ B.rot_y(actor.yaw)
        P = P @ R.T + facing @ actor.offset + shift
        F = R @ F
        joints.append(P)
        frames.append(F)
        orientations.append(B.joint_orientations(actor.shape, F))
        pitch = actor.pose['pelvis_pitch'] + actor.pose['spine_pitch']
        roll = actor.pose['pelvis_roll'] + actor.pose['spine_roll']
        lean.append(np.stack([np.sin(roll), np.sin(pitch)], -1))
    joints, frames = np.stack(joints), np.stack(frames)
    return Performance(joints=joints, frames=frames,
                       orientations=np.stack(orientations),
                       lean=np.stack(lean),
                       shapes=[a.shape for a in actors],
                       props=props(joints, frames) if props else [])
