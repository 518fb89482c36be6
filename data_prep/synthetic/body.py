"""An articulated 25-joint stick person with NTU RGB+D's (Kinect v2) joints.

The body frame is right-handed: ``+X`` is the person's left, ``+Y`` up and
``+Z`` the direction the person faces; the origin is on the floor. A pose is a
set of named joint angles per frame (:data:`DOF_NAMES`, radians, 0 = standing
with the arms hanging); :func:`forward_kinematics` turns a pose and a
:class:`BodyShape` into joint positions and bone orientations. Everything is
vectorised over arbitrary leading batch axes (frames, candidate angles, ...).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_JOINTS = 25

# 0-based NTU joint indices (NTU numbers them 1..25).
(SPINE_BASE, SPINE_MID, NECK, HEAD, L_SHOULDER, L_ELBOW, L_WRIST, L_HAND,
 R_SHOULDER, R_ELBOW, R_WRIST, R_HAND, L_HIP, L_KNEE, L_ANKLE, L_FOOT,
 R_HIP, R_KNEE, R_ANKLE, R_FOOT, SPINE_SHOULDER, L_HAND_TIP, L_THUMB,
 R_HAND_TIP, R_THUMB) = range(NUM_JOINTS)

#: Parent of each joint (-1 for the root, the base of the spine).
PARENTS = np.array([
    -1, SPINE_BASE, SPINE_SHOULDER, NECK,             # 0-3: spine, neck, head
    SPINE_SHOULDER, L_SHOULDER, L_ELBOW, L_WRIST,     # 4-7: left arm
    SPINE_SHOULDER, R_SHOULDER, R_ELBOW, R_WRIST,     # 8-11: right arm
    SPINE_BASE, L_HIP, L_KNEE, L_ANKLE,               # 12-15: left leg
    SPINE_BASE, R_HIP, R_KNEE, R_ANKLE,               # 16-19: right leg
    SPINE_MID, L_HAND, L_WRIST, R_HAND, R_WRIST])     # 20-24

#: Joints in an order where every parent precedes its children.
FK_ORDER = (SPINE_BASE, SPINE_MID, SPINE_SHOULDER, NECK, HEAD,
            L_SHOULDER, L_ELBOW, L_WRIST, L_HAND, L_HAND_TIP, L_THUMB,
            R_SHOULDER, R_ELBOW, R_WRIST, R_HAND, R_HAND_TIP, R_THUMB,
            L_HIP, L_KNEE, L_ANKLE, L_FOOT, R_HIP, R_KNEE, R_ANKLE, R_FOOT)

#: Joints whose Kinect orientation is all zeros (leaves of the tree).
LEAF_JOINTS = (HEAD, L_FOOT, R_FOOT, L_HAND_TIP, L_THUMB, R_HAND_TIP, R_THUMB)

#: Rest offsets (metres, in the parent's frame) of a 1.72 m reference adult.
#: Left-side joints have +X offsets; the right side mirrors them.
_REST = {
    SPINE_MID: (0, 0.26, 0), SPINE_SHOULDER: (0, 0.22, 0),
    NECK: (0, 0.08, 0), HEAD: (0, 0.12, 0.01),
    L_SHOULDER: (0.17, -0.02, 0), L_ELBOW: (0, -0.28, 0),
    L_WRIST: (0, -0.25, 0), L_HAND: (0, -0.07, 0),
    L_HAND_TIP: (0, -0.07, 0), L_THUMB: (0, -0.06, 0.04),
    L_HIP: (0.09, -0.05, 0), L_KNEE: (0, -0.42, 0),
    L_ANKLE: (0, -0.42, 0), L_FOOT: (0, -0.05, 0.13),
}
_MIRROR = {L_SHOULDER: R_SHOULDER, L_ELBOW: R_ELBOW, L_WRIST: R_WRIST,
           L_HAND: R_HAND, L_HAND_TIP: R_HAND_TIP, L_THUMB: R_THUMB,
           L_HIP: R_HIP, L_KNEE: R_KNEE, L_ANKLE: R_ANKLE, L_FOOT: R_FOOT}

#: Height of the ankle joint above the floor when standing.
ANKLE_HEIGHT = 0.07

#: Named degrees of freedom of a pose (radians). ``l_``/``r_`` = the
#: person's left/right. Shoulder: ``elev`` raises the arm from hanging,
#: ``plane`` turns the raising plane from forward (0) to sideways-out
#: (pi/2), ``twist`` rotates the upper arm inwards and ``abd`` tilts the
#: whole arm outwards (relaxed arms hang a little away from the body).
#: Hip: ``flex`` swings the thigh forward (negative: backward), ``abd``
#: outwards. ``knee``/``elbow``
#: bend; ``ankle`` points the toes down (0 keeps the sole parallel to the
#: pelvis' horizontal). ``pelvis_pitch`` bends the whole upper body forward
#: at the hips, ``spine_pitch`` curls the spine forward.
DOF_NAMES = (
    'yaw', 'pelvis_pitch', 'pelvis_roll', 'spine_pitch', 'spine_roll',
    'spine_yaw', 'neck_pitch', 'neck_yaw',
    'l_sh_abd', 'l_sh_elev', 'l_sh_plane', 'l_sh_twist', 'l_elbow',
    'r_sh_abd', 'r_sh_elev', 'r_sh_plane', 'r_sh_twist', 'r_elbow',
    'l_hip_flex', 'l_hip_abd', 'l_knee', 'l_ankle',
    'r_hip_flex', 'r_hip_abd', 'r_knee', 'r_ankle')


@dataclass
class BodyShape:
    """Bone offsets and limb thickness of one performer.

    Attributes:
        offsets: float64 ``[25, 3]`` rest offset of each joint from its
            parent (row of the root unused).
        girth: multiplier of the limb radii used by the renderer.
    """
    offsets: np.ndarray
    girth: float = 1.0

    @property
    def height(self) -> float:
        """Standing height of the top of the head (approximate)."""
        legs = -(self.offsets[L_HIP, 1] + self.offsets[L_KNEE, 1]
                 + self.offsets[L_ANKLE, 1])
        spine = (self.offsets[SPINE_MID, 1] + self.offsets[SPINE_SHOULDER, 1]
                 + self.offsets[NECK, 1] + self.offsets[HEAD, 1])
        return ANKLE_HEIGHT + legs + spine + 0.11 * self.girth


def reference_offsets() -> np.ndarray:
    """Rest offsets ``[25, 3]`` of the reference adult (both sides)."""
    offsets = np.zeros((NUM_JOINTS, 3))
    for joint, offset in _REST.items():
        offsets[joint] = offset
    for left, right in _MIRROR.items():
        offsets[right] = offsets[left] * (-1, 1, 1)
    return offsets


def sample_body_shape(rng: np.random.Generator) -> BodyShape:
    """A random adult: overall scale, limb proportions and girth vary."""
    offsets = reference_offsets()
    scale = rng.uniform(0.9, 1.08)
    arm = rng.normal(1.0, 0.03)
    leg = rng.normal(1.0, 0.03)
    torso = rng.normal(1.0, 0.03)
    width = rng.normal(1.0, 0.05)
    for joint in (L_ELBOW, L_WRIST, R_ELBOW, R_WRIST):
        offsets[joint] *= arm
    for joint in (L_KNEE, L_ANKLE, R_KNEE, R_ANKLE):
        offsets[joint] *= leg
    for joint in (SPINE_MID, SPINE_SHOULDER, NECK):
        offsets[joint] *= torso
    for joint in (L_SHOULDER, R_SHOULDER, L_HIP, R_HIP):
        offsets[joint, 0] *= width
    offsets *= scale
    return BodyShape(offsets=offsets, girth=float(rng.uniform(0.9, 1.15)))


# --------------------------------------------------------------------------
# Rotations
# --------------------------------------------------------------------------
def _rot(axis: int, angle) -> np.ndarray:
    """Rotation matrices ``[..., 3, 3]`` about a coordinate axis."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def rot_x(angle):
    """Rotation about X (positive turns +Y towards +Z)."""
    return _rot(0, angle)


def rot_y(angle):
    """Rotation about Y (positive turns +Z towards +X)."""
    return _rot(1, angle)


def rot_z(angle):
    """Rotation about Z (positive turns +X towards +Y)."""
    return _rot(2, angle)


def matrix_to_quaternion(R: np.ndarray) -> np.ndarray:
    """Unit quaternions ``[..., 4]`` (w, x, y, z), ``w >= 0``, of rotations."""
    R = np.asarray(R, dtype=np.float64)
    m = R.reshape(-1, 3, 3)
    # Shepperd's method on the largest of the four candidate denominators.
    diag = np.stack([m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2],
                     m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], axis=1)
    best = np.argmax(diag, axis=1)
    q = np.empty((len(m), 4))
    for k in range(4):
        sel = best == k
        if not sel.any():
            continue
        r = m[sel]
        if k == 0:
            t = np.sqrt(1 + r[:, 0, 0] + r[:, 1, 1] + r[:, 2, 2]) * 2
            q[sel] = np.stack([t / 4, (r[:, 2, 1] - r[:, 1, 2]) / t,
                               (r[:, 0, 2] - r[:, 2, 0]) / t,
                               (r[:, 1, 0] - r[:, 0, 1]) / t], 1)
        elif k == 1:
            t = np.sqrt(1 + r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2]) * 2
            q[sel] = np.stack([(r[:, 2, 1] - r[:, 1, 2]) / t, t / 4,
                               (r[:, 0, 1] + r[:, 1, 0]) / t,
                               (r[:, 0, 2] + r[:, 2, 0]) / t], 1)
        elif k == 2:
            t = np.sqrt(1 - r[:, 0, 0] + r[:, 1, 1] - r[:, 2, 2]) * 2
            q[sel] = np.stack([(r[:, 0, 2] - r[:, 2, 0]) / t,
                               (r[:, 0, 1] + r[:, 1, 0]) / t, t / 4,
                               (r[:, 1, 2] + r[:, 2, 1]) / t], 1)
        else:
            t = np.sqrt(1 - r[:, 0, 0] - r[:, 1, 1] + r[:, 2, 2]) * 2
            q[sel] = np.stack([(r[:, 1, 0] - r[:, 0, 1]) / t,
                               (r[:, 0, 2] + r[:, 2, 0]) / t,
                               (r[:, 1, 2] + r[:, 2, 1]) / t, t / 4], 1)
    q *= np.where(q[:, :1] < 0, -1.0, 1.0)
    return q.reshape(R.shape[:-2] + (4,))


def _align_y(direction: np.ndarray) -> np.ndarray:
    """The smallest rotation taking +Y onto a unit vector."""
    y = np.array([0.0, 1.0, 0.0])
    v = np.cross(y, direction)
    c = float(np.dot(y, direction))
    if np.linalg.norm(v) < 1e-9:
        return np.eye(3) if c > 0 else rot_z(np.pi)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


# --------------------------------------------------------------------------
# Forward kinematics
# --------------------------------------------------------------------------
def neutral_pose(shape: tuple) -> dict:
    """A pose dict of zeros with batch shape ``shape``."""
    return {name: np.zeros(shape) for name in DOF_NAMES}


def _local_rotations(pose: dict) -> dict:
    """Rotation of each joint relative to its parent's frame."""
    p = {k: np.asarray(v, dtype=np.float64) for k, v in pose.items()}
    pelvis_tilt = rot_x(p['pelvis_pitch']) @ rot_z(p['pelvis_roll'])
    untilt = rot_z(-p['pelvis_roll']) @ rot_x(-p['pelvis_pitch'])
    half_spine = rot_x(p['spine_pitch'] / 2)
    local = {
        SPINE_BASE: rot_y(p['yaw']) @ pelvis_tilt,
        SPINE_MID: half_spine @ rot_z(p['spine_roll']) @ rot_y(p['spine_yaw']),
        SPINE_SHOULDER: half_spine,
        NECK: rot_x(p['neck_pitch']) @ rot_y(p['neck_yaw']),
    }
    for side, sign, shoulder, elbow, hip, knee, ankle in (
            ('l', 1, L_SHOULDER, L_ELBOW, L_HIP, L_KNEE, L_ANKLE),
            ('r', -1, R_SHOULDER, R_ELBOW, R_HIP, R_KNEE, R_ANKLE)):
        local[shoulder] = (rot_z(sign * p[f'{side}_sh_abd'])
                           @ rot_y(sign * p[f'{side}_sh_plane'])
                           @ rot_x(-p[f'{side}_sh_elev'])
                           @ rot_y(-sign * p[f'{side}_sh_twist']))
        local[elbow] = rot_x(-p[f'{side}_elbow'])
        local[hip] = (untilt @ rot_z(sign * p[f'{side}_hip_abd'])
                      @ rot_x(-p[f'{side}_hip_flex']))
        local[knee] = rot_x(p[f'{side}_knee'])
        # keep the sole level unless the ankle points the toes
        local[ankle] = rot_x(p[f'{side}_hip_flex'] - p[f'{side}_knee']
                             + p[f'{side}_ankle'])
    return local


def _bone_alignments(offsets: np.ndarray) -> np.ndarray:
    """Rotations taking +Y onto each rest bone direction ``[25, 3, 3]``."""
    out = np.tile(np.eye(3), (NUM_JOINTS, 1, 1))
    for joint in range(NUM_JOINTS):
        if PARENTS[joint] >= 0:
            norm = np.linalg.norm(offsets[joint])
            out[joint] = _align_y(offsets[joint] / norm)
    return out


def forward_kinematics(shape: BodyShape, pose: dict, root=None):
    """Joint positions and frames of a posed body.

    Args:
        shape: the performer's bones.
        pose: DOF name -> array of batch shape ``B`` (missing DOFs are 0).
        root: ``[*B, 3]`` position of the base of the spine; default: the
            standing height above the origin.

    Returns:
        tuple: ``positions`` ``[*B, 25, 3]`` and ``frames`` ``[*B, 25, 3, 3]``,
        the rotation of each joint's frame (columns: its X, Y, Z axes).
    """
    batch = np.broadcast_shapes(*(np.shape(v) for v in pose.values()))
    full = neutral_pose(batch)
    for name, value in pose.items():
        if name not in full:
            raise KeyError(f'unknown pose DOF {name!r}')
        full[name] = np.broadcast_to(np.asarray(value, np.float64), batch)
    local = _local_rotations(full)
    offsets = shape.offsets
    if root is None:
        root = np.array([0.0, standing_root_height(shape), 0.0])
    positions = np.zeros(batch + (NUM_JOINTS, 3))
    frames = np.zeros(batch + (NUM_JOINTS, 3, 3))
    positions[..., SPINE_BASE, :] = root
    frames[..., SPINE_BASE, :, :] = local[SPINE_BASE]
    for joint in FK_ORDER[1:]:
        parent = PARENTS[joint]
        g = frames[..., parent, :, :]
        positions[..., joint, :] = (positions[..., parent, :]
                                    + g @ offsets[joint])
        frames[..., joint, :, :] = g @ local[joint] if joint in local else g
    return positions, frames


def standing_root_height(shape: BodyShape) -> float:
    """Height of the base of the spine when standing straight."""
    o = shape.offsets
    return ANKLE_HEIGHT - (o[L_HIP, 1] + o[L_KNEE, 1] + o[L_ANKLE, 1])


def joint_orientations(shape: BodyShape, frames: np.ndarray) -> np.ndarray:
    """Kinect-style bone orientations ``[*B, 25, 3, 3]`` from FK frames.

    Kinect gives each joint the orientation of the bone ending at it, with
    the bone along the local +Y axis. Here: the parent's frame times the
    rotation taking +Y onto the rest bone; the root takes the pelvis frame.
    """
    align = _bone_alignments(shape.offsets)
    parent_frames = frames[..., np.maximum(PARENTS, 0), :, :]
    out = parent_frames @ align
    out[..., SPINE_BASE, :, :] = frames[..., SPINE_BASE, :, :]
    return out
