"""A small registry of skeleton layouts (issue 13 §2).

One :class:`SkeletonLayout` per joint set: joint names, limbs, left/right
pairs, the mapping to COCO-17, the ROI-mosaic parts and the graph centre, so
that flips, heatmaps, ROI mosaics and MMAction2's ``Graph`` pick the right
joints on every dataset. Built-in layouts (0-based indices everywhere):

================  ====  ==================================================
name              J     joint set
================  ====  ==================================================
``ntu25``         25    Kinect v2 (NTU RGB+D 60/120, PKU-MMD)
``kinect_v1_20``  20    Kinect v1 (NW-UCLA)
``uwa3d15``       15    UWA3D Multiview II (OpenNI order, unverified)
``lcrnet13``      13    LCR-Net (Toyota Smarthome)
``pennaction13``  13    PennAction annotations
``coco17``        17    COCO keypoints (HRNet; PoseC3D limbs)
``openpose18``    18    OpenPose / COCO-18 (MMAction2's ``'openpose'``)
================  ====  ==================================================

Joint names are shared across layouts (``head``, ``left_shoulder``,
``right_wrist``, ...; left/right are the subject's own sides, as in COCO),
so the same joint has the same name in every layout. The COCO-17 mapping
takes the joint of the same name; where a layout has no joint of that name
it takes one documented *stand-in* (:data:`COCO17_STAND_INS`: the Kinect /
LCR-Net / PennAction ``head`` for the nose, OpenNI's ``hand`` / ``foot`` end
joints for the wrists / ankles), else nothing: :func:`to_coco17` gives such
COCO joints score 0 and coordinates 0, never an invented position.

MMAction2's ``Graph`` knows the names ``'openpose'``, ``'nturgb+d'`` and
``'coco'`` and takes a dict ``(num_node, inward, center)``.
:func:`graph_layout` gives that dict for any layout and
:mod:`mmar_ext.models.graph_layouts` teaches ``Graph`` the registered names,
so ``graph_cfg=dict(layout='kinect_v1_20', ...)`` works in ST-GCN / AAGCN
configs.

This module needs only numpy (data-preparation code may import it).
"""
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    'SkeletonLayout', 'COCO17_NAMES', 'COCO17_STAND_INS', 'ROI_PART_NAMES',
    'register_layout', 'get_layout', 'layout_names', 'flip_indices',
    'flip_kp', 'limb_flip_pairs', 'to_coco17', 'graph_layout', 'roi_joints'
]

Pair = Tuple[int, int]

#: The 17 COCO keypoints in COCO order.
COCO17_NAMES = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle')

#: COCO keypoint -> the joint name that stands in for it in a layout that
#: lacks the keypoint itself (the only approximations of the COCO mapping).
#: Kinect, LCR-Net and PennAction have a ``head`` joint but no face points;
#: OpenNI (UWA3D) ends its arms and legs in ``hand`` / ``foot`` joints and
#: has no wrist / ankle.
COCO17_STAND_INS = MappingProxyType({
    'nose': 'head',
    'left_wrist': 'left_hand',
    'right_wrist': 'right_hand',
    'left_ankle': 'left_foot',
    'right_ankle': 'right_foot',
})

#: The ROI-mosaic rows of TSMF (see ``SkeletonROIMosaic``).
ROI_PART_NAMES = ('head', 'right_hand', 'left_hand', 'right_foot',
                  'left_foot')


def _int_pairs(pairs) -> Tuple[Pair, ...]:
    return tuple((int(a), int(b)) for a, b in pairs)


@dataclass(frozen=True)
class SkeletonLayout:
    """One skeleton joint set.

    Args:
        name (str): Registry name.
        joints (tuple[str]): Joint names in the data's joint order.
        limbs (tuple[tuple[int, int]]): Bones as joint index pairs (the limb
            channels of heatmaps, in this order).
        flip_pairs (tuple[tuple[int, int]]): ``(left, right)`` joints
            swapped by a horizontal flip.
        coco17 (tuple[int | None]): For each COCO-17 keypoint
            (:data:`COCO17_NAMES`) the index of the same joint here (or of
            its :data:`COCO17_STAND_INS` stand-in), None where there is none.
        center (int): Graph centre (root) joint: the base of the neck where
            the layout has one (MMAction2: ``'nturgb+d'`` 20, ``'openpose'``
            1), else the head / nose (``'coco'`` 0).
        roi_parts (tuple[int] | None): Joint of each
            :data:`ROI_PART_NAMES` row of a ROI mosaic (head, right hand,
            left hand, right foot, left foot), None if not defined.
        graph_edges (tuple[tuple[int, int]] | None): Graph edges when they
            differ from ``limbs`` (COCO-17: MMAction2's ``'coco'`` graph has
            shoulder-hip edges but no hip-hip edge, PoseC3D's limbs have
            it). None = ``limbs``.
        description (str): Source and caveats.
    """
    name: str
    joints: Tuple[str, ...]
    limbs: Tuple[Pair, ...]
    flip_pairs: Tuple[Pair, ...]
    coco17: Tuple[Optional[int], ...]
    center: int
    roi_parts: Optional[Tuple[int, ...]] = None
    graph_edges: Optional[Tuple[Pair, ...]] = None
    description: str = field(default='', compare=False)

    def __post_init__(self) -> None:
        # normalise (lists from configs -> tuples), then validate
        set_ = object.__setattr__
        set_(self, 'joints', tuple(str(j) for j in self.joints))
        set_(self, 'limbs', _int_pairs(self.limbs))
        set_(self, 'flip_pairs', _int_pairs(self.flip_pairs))
        set_(self, 'coco17',
             tuple(None if i is None else int(i) for i in self.coco17))
        set_(self, 'center', int(self.center))
        if self.roi_parts is not None:
            set_(self, 'roi_parts', tuple(int(j) for j in self.roi_parts))
        if self.graph_edges is not None:
            set_(self, 'graph_edges', _int_pairs(self.graph_edges))
        self._validate()

    def _validate(self) -> None:
        n, where = len(self.joints), f'skeleton layout {self.name!r}'
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f'{where}: the name must be a non-empty string')
        if n == 0 or len(set(self.joints)) != n:
            dup = sorted({j for j in self.joints if self.joints.count(j) > 1})
            raise ValueError(f'{where}: joint names must be unique and '
                             f'non-empty (repeated: {dup})')

        def check(what, indices):
            bad = [i for i in indices if not 0 <= i < n]
            if bad:
                raise ValueError(f'{where}: {what} index out of range '
                                 f'0..{n - 1}: {bad}')

        check('limb', [i for p in self.limbs for i in p])
        check('graph edge', [i for p in self.graph_edges or () for i in p])
        check('flip pair', [i for p in self.flip_pairs for i in p])
        check('centre', [self.center])
        if self.roi_parts is not None:
            if len(self.roi_parts) != len(ROI_PART_NAMES):
                raise ValueError(f'{where}: roi_parts needs one joint per '
                                 f'part {ROI_PART_NAMES}')
            check('roi part', self.roi_parts)
        if len(self.coco17) != len(COCO17_NAMES):
            raise ValueError(f'{where}: coco17 needs {len(COCO17_NAMES)} '
                             f'entries, got {len(self.coco17)}')
        check('coco17', [i for i in self.coco17 if i is not None])
        flat = [i for p in self.flip_pairs for i in p]
        if len(set(flat)) != len(flat) or any(a == b
                                              for a, b in self.flip_pairs):
            raise ValueError(f'{where}: each joint may appear in at most one '
                             'flip pair, never paired with itself')
        for a, b in list(self.limbs) + list(self.graph_edges or ()):
            if a == b:
                raise ValueError(f'{where}: limb ({a}, {b}) joins a joint to '
                                 'itself')

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def index(self, joint: str) -> int:
        """Index of a joint name (ValueError naming the joints if absent)."""
        if joint not in self.joints:
            raise ValueError(f'skeleton layout {self.name!r} has no joint '
                             f'{joint!r}; its joints: {list(self.joints)}')
        return self.joints.index(joint)


_REGISTRY: Dict[str, SkeletonLayout] = {}


def register_layout(layout: SkeletonLayout,
                    overwrite: bool = False) -> SkeletonLayout:
    """Add a layout to the registry (``overwrite`` to replace a name)."""
    if not isinstance(layout, SkeletonLayout):
        raise TypeError(f'expected a SkeletonLayout, got {type(layout)}')
    if layout.name in _REGISTRY and not overwrite:
        raise ValueError(f'skeleton layout {layout.name!r} is already '
                         'registered (pass overwrite=True to replace it)')
    _REGISTRY[layout.name] = layout
    return layout


def layout_names() -> List[str]:
    """The registered layout names, sorted."""
    return sorted(_REGISTRY)


LayoutLike = Union[str, SkeletonLayout]


def get_layout(layout: LayoutLike) -> SkeletonLayout:
    """The registered layout of that name (a layout is returned as is)."""
    if isinstance(layout, SkeletonLayout):
        return layout
    try:
        return _REGISTRY[layout]
    except (KeyError, TypeError):
        raise ValueError(f'unknown skeleton layout {layout!r}; known layouts: '
                         f'{", ".join(layout_names())}') from None


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def flip_indices(layout: LayoutLike) -> np.ndarray:
    """int64 ``[J]`` permutation of a horizontal flip: after mirroring the
    x coordinates, ``flipped = keypoint[..., perm, :]`` puts every joint back
    on its own side (left <-> right swapped, centre joints kept)."""
    layout = get_layout(layout)
    perm = np.arange(layout.num_joints)
    for left, right in layout.flip_pairs:
        perm[left], perm[right] = right, left
    return perm


def flip_kp(layout: LayoutLike) -> Dict[str, List[int]]:
    """``dict(left_kp=[...], right_kp=[...])``, the arguments of MMAction2's
    ``Flip`` (and of ``PoseHeatmapVolume``'s flip) for this layout."""
    layout = get_layout(layout)
    return dict(left_kp=[a for a, _ in layout.flip_pairs],
                right_kp=[b for _, b in layout.flip_pairs])


def limb_flip_pairs(layout: LayoutLike,
                    limbs: Optional[Sequence[Pair]] = None
                    ) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """``(left_limb, right_limb)``: limb indices that a horizontal flip
    swaps (a limb and the limb joining the mirrored joints; the one with a
    left joint in ``left_limb``, pairs sorted by it), for
    ``PoseHeatmapVolume(left_limb=..., right_limb=...)``. ``limbs``
    defaults to the layout's."""
    layout = get_layout(layout)
    limbs = layout.limbs if limbs is None else _int_pairs(limbs)
    perm = flip_indices(layout)
    left_joints = {a for a, _ in layout.flip_pairs}
    where = {frozenset(p): i for i, p in enumerate(limbs)}
    pairs = []
    for i, (a, b) in enumerate(limbs):
        j = where.get(frozenset((int(perm[a]), int(perm[b]))))
        if j is not None and j > i:
            # the limb with a left joint first
            on_left = bool(left_joints & set(limbs[i]))
            pairs.append((i, j) if on_left else (j, i))
    pairs.sort()
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


def roi_joints(layout: LayoutLike) -> Tuple[int, ...]:
    """The ROI-mosaic joints (head, right hand, left hand, right foot, left
    foot) of a layout; ValueError if it defines none."""
    layout = get_layout(layout)
    if layout.roi_parts is None:
        with_parts = [n for n in layout_names()
                      if _REGISTRY[n].roi_parts is not None]
        raise ValueError(f'skeleton layout {layout.name!r} defines no ROI '
                         f'parts; layouts with ROI parts: {with_parts}')
    return layout.roi_parts


def to_coco17(keypoint: np.ndarray,
              score: Optional[np.ndarray],
              layout: LayoutLike,
              stand_in_face: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """Map ``[..., J, C]`` joints (and ``[..., J]`` scores) to COCO-17.

    Each COCO keypoint takes its joint of ``layout.coco17``; keypoints
    without one get coordinates 0 and score 0 (missing; never an invented
    position). ``score=None`` means all joints present (score 1).

    Args:
        stand_in_face (bool): Eyes and ears the layout lacks take the
            nose's joint (the head) instead of score 0 --
            ``data_prep.ntu.constants.NTU_TO_COCO``'s convention, which
            draws Kinect's head as the whole face. Defaults to False.

    Returns:
        tuple: ``[..., 17, C]`` keypoints (input dtype) and ``[..., 17]``
        float32 scores.
    """
    layout = get_layout(layout)
    keypoint = np.asarray(keypoint)
    if keypoint.ndim < 2 or keypoint.shape[-2] != layout.num_joints:
        raise ValueError(f'to_coco17: layout {layout.name!r} has '
                         f'{layout.num_joints} joints, got keypoints of shape '
                         f'{keypoint.shape} (expected [..., '
                         f'{layout.num_joints}, C])')
    if score is None:
        score = np.ones(keypoint.shape[:-1], np.float32)
    score = np.asarray(score, np.float32)
    if score.shape != keypoint.shape[:-1]:
        raise ValueError(f'to_coco17: scores of shape {score.shape} do not '
                         f'match keypoints of shape {keypoint.shape}')
    src = list(layout.coco17)
    if stand_in_face:
        src[1:5] = [src[0] if s is None else s for s in src[1:5]]
    have = np.array([s is not None for s in src])
    idx = np.array([0 if s is None else s for s in src], np.int64)
    kp = np.where(have[:, None], keypoint[..., idx, :], 0).astype(
        keypoint.dtype)
    sc = np.where(have, score[..., idx], 0).astype(np.float32)
    return kp, sc


def graph_layout(layout: LayoutLike) -> Dict:
    """``dict(num_node, inward, center)`` of a layout's graph, as
    MMAction2's ``Graph.set_layout`` sets them: ``inward`` holds each edge
    (``graph_edges`` or ``limbs``) as ``(i, j)`` with ``j`` nearer the
    centre (given order where both are as near). For ``ntu25``, ``coco17``
    and ``openpose18`` this equals MMAction2's ``'nturgb+d'``, ``'coco'`` and
    ``'openpose'``."""
    layout = get_layout(layout)
    edges = layout.graph_edges if layout.graph_edges is not None else \
        layout.limbs
    n = layout.num_joints
    dist = np.full(n, np.inf)
    dist[layout.center] = 0
    frontier = [layout.center]
    while frontier:  # BFS hop distance to the centre
        nxt = []
        for a, b in edges:
            for u, v in ((a, b), (b, a)):
                if u in frontier and dist[v] == np.inf:
                    dist[v] = dist[u] + 1
                    nxt.append(v)
        frontier = nxt
    inward = [(a, b) if dist[b] <= dist[a] else (b, a) for a, b in edges]
    return dict(num_node=n, inward=inward, center=layout.center)


# --------------------------------------------------------------------------
# Built-in layouts
# --------------------------------------------------------------------------
def _coco17_by_name(joints: Sequence[str]) -> Tuple[Optional[int], ...]:
    out = []
    for name in COCO17_NAMES:
        if name in joints:
            out.append(joints.index(name))
        elif COCO17_STAND_INS.get(name) in joints:
            out.append(joints.index(COCO17_STAND_INS[name]))
        else:
            out.append(None)
    return tuple(out)


def _flip_by_name(joints: Sequence[str]) -> Tuple[Pair, ...]:
    return tuple((i, joints.index('right_' + j[len('left_'):]))
                 for i, j in enumerate(joints) if j.startswith('left_'))


def _roi_by_name(joints: Sequence[str], hand: str, foot: str
                 ) -> Tuple[int, ...]:
    names = ('head' if 'head' in joints else 'nose', f'right_{hand}',
             f'left_{hand}', f'right_{foot}', f'left_{foot}')
    return tuple(joints.index(n) for n in names)


def _layout(name, joints, limbs, center, hand, foot, description,
            graph_edges=None, one_based=False) -> SkeletonLayout:
    if one_based:
        limbs = [(a - 1, b - 1) for a, b in limbs]
    return register_layout(SkeletonLayout(
        name=name, joints=joints, limbs=limbs,
        flip_pairs=_flip_by_name(joints), coco17=_coco17_by_name(joints),
        center=center, roi_parts=_roi_by_name(joints, hand, foot),
        graph_edges=graph_edges, description=description))


_NTU25 = ('spine_base', 'spine_mid', 'neck', 'head', 'left_shoulder',
          'left_elbow', 'left_wrist', 'left_hand', 'right_shoulder',
          'right_elbow', 'right_wrist', 'right_hand', 'left_hip', 'left_knee',
          'left_ankle', 'left_foot', 'right_hip', 'right_knee',
          'right_ankle', 'right_foot', 'spine_shoulder', 'left_hand_tip',
          'left_thumb', 'right_hand_tip', 'right_thumb')
_layout(
    'ntu25', _NTU25,
    # MMAction2's 'nturgb+d' edges (1-based, (child, parent))
    [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7),
     (9, 21), (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14),
     (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 8), (23, 8),
     (24, 12), (25, 12)],
    center=20, hand='hand', foot='ankle', one_based=True,
    description='Kinect v2, 25 joints (NTU RGB+D 60/120, PKU-MMD); joint '
    'order of data_prep.ntu.constants.NTU_JOINT_NAMES; COCO nose <- head '
    '(NTU_TO_COCO also copies the head to eyes and ears: '
    'to_coco17(stand_in_face=True)); ROI hands = hand joints, feet = ankles '
    '(TSMF authors\' code).')

_layout(
    'kinect_v1_20',
    ('hip_center', 'spine', 'shoulder_center', 'head', 'left_shoulder',
     'left_elbow', 'left_wrist', 'left_hand', 'right_shoulder',
     'right_elbow', 'right_wrist', 'right_hand', 'left_hip', 'left_knee',
     'left_ankle', 'left_foot', 'right_hip', 'right_knee', 'right_ankle',
     'right_foot'),
    # CTR-GCN graph/ucla.py edges (1-based)
    [(1, 2), (2, 3), (4, 3), (5, 3), (6, 5), (7, 6), (8, 7), (9, 3),
     (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15),
     (17, 1), (18, 17), (19, 18), (20, 19)],
    center=2, hand='hand', foot='ankle', one_based=True,
    description='Kinect v1, 20 joints (NW-UCLA): 1 HipCenter 2 Spine '
    '3 ShoulderCenter 4 Head 5-8 ShoulderL/ElbowL/WristL/HandL 9-12 same R '
    '13-16 HipL/KneeL/AnkleL/FootL 17-20 same R; edges of CTR-GCN '
    'graph/ucla.py; ROI parts as ntu25 (hands, ankles).')

_layout(
    'uwa3d15',
    ('head', 'neck', 'torso', 'left_shoulder', 'left_elbow', 'left_hand',
     'right_shoulder', 'right_elbow', 'right_hand', 'left_hip', 'left_knee',
     'left_foot', 'right_hip', 'right_knee', 'right_foot'),
    [(0, 1), (2, 1), (3, 1), (4, 3), (5, 4), (6, 1), (7, 6), (8, 7),
     (9, 2), (10, 9), (11, 10), (12, 2), (13, 12), (14, 13)],
    center=1, hand='hand', foot='foot',
    description='UWA3D Multiview II, 15 joints. UNVERIFIED joint order: no '
    'source states it; assumed to be the OpenNI/NiTE 15-joint order (head, '
    'neck, torso, L shoulder, L elbow, L hand, R shoulder, R elbow, R hand, '
    'L hip, L knee, L foot, R hip, R knee, R foot). OpenNI has no wrist or '
    'ankle: COCO wrists/ankles <- hand/foot joints.')

_LCR_EDGES = [(0, 2), (2, 4), (1, 3), (3, 5), (4, 10), (5, 11), (6, 8),
              (8, 10), (7, 9), (9, 11), (10, 12), (11, 12)]
_layout(
    'lcrnet13',
    ('right_ankle', 'left_ankle', 'right_knee', 'left_knee', 'right_hip',
     'left_hip', 'right_wrist', 'left_wrist', 'right_elbow', 'left_elbow',
     'right_shoulder', 'left_shoulder', 'head'),
    _LCR_EDGES + [(4, 5)], center=12, hand='wrist', foot='ankle',
    graph_edges=_LCR_EDGES,
    description='LCR-Net, 13 joints (Toyota Smarthome skeleton JSON; '
    'coordinate-major in the files). Limbs as PoseC3D\'s COCO-17 (head for '
    'the nose, hip-hip included); graph as MMAction2\'s \'coco\' (no hip-hip '
    'edge), centre = head.')

_PENN_EDGES = [(11, 9), (9, 7), (12, 10), (10, 8), (7, 1), (8, 2), (5, 3),
               (3, 1), (6, 4), (4, 2), (1, 0), (2, 0)]
_layout(
    'pennaction13',
    ('head', 'left_shoulder', 'right_shoulder', 'left_elbow',
     'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
     'left_knee', 'right_knee', 'left_ankle', 'right_ankle'),
    # PoseC3D's COCO-17 limbs without the face
    [(0, 1), (1, 3), (3, 5), (0, 2), (2, 4), (4, 6), (1, 7), (7, 9),
     (9, 11), (2, 8), (8, 10), (10, 12), (7, 8)],
    center=0, hand='wrist', foot='ankle', graph_edges=_PENN_EDGES,
    description='PennAction, 13 annotated joints (labels/NNNN.mat x, y, '
    'visibility): COCO-17 without eyes and ears, head for the nose. Limbs '
    'as PoseC3D\'s COCO-17; graph as MMAction2\'s \'coco\', centre = head.')

_layout(
    'coco17', COCO17_NAMES,
    # MMAction2's / PoseC3D's COCO-17 limbs (GeneratePoseTarget skeletons)
    [(0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6),
     (6, 8), (8, 10), (5, 11), (11, 13), (13, 15), (6, 12), (12, 14),
     (14, 16), (11, 12)],
    center=0, hand='wrist', foot='ankle',
    # MMAction2's 'coco' graph
    graph_edges=[(15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6),
                 (9, 7), (7, 5), (10, 8), (8, 6), (5, 0), (6, 0), (1, 0),
                 (3, 1), (2, 0), (4, 2)],
    description='COCO-17 keypoints (HRNet / MMPose). Limbs = MMAction2\'s '
    'GeneratePoseTarget skeletons (PoseC3D); graph = MMAction2\'s \'coco\'.')

_layout(
    'openpose18',
    ('nose', 'neck', 'right_shoulder', 'right_elbow', 'right_wrist',
     'left_shoulder', 'left_elbow', 'left_wrist', 'right_hip', 'right_knee',
     'right_ankle', 'left_hip', 'left_knee', 'left_ankle', 'right_eye',
     'left_eye', 'right_ear', 'left_ear'),
    # MMAction2's 'openpose' graph
    [(4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8),
     (11, 5), (8, 2), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15),
     (16, 14)],
    center=1, hand='wrist', foot='ankle',
    description='OpenPose COCO-18 (Kinetics skeletons of ST-GCN); edges = '
    'MMAction2\'s \'openpose\' graph.')

#: Read-only view of the registry (name -> layout).
LAYOUTS: Mapping[str, SkeletonLayout] = MappingProxyType(_REGISTRY)
