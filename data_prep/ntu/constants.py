"""NTU RGB+D 60 / 120: joints, classes, benchmark protocols, sample names.

Sources: the NTU RGB+D paper (Shahroudy et al., CVPR 2016) for the joint
list, the NTU RGB+D 120 paper (Liu et al., TPAMI 2019) for the 120-class
protocols, and the dataset's official README for the class names (curly
apostrophes written as ASCII ``'``).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

# --------------------------------------------------------------------------
# Joints
# --------------------------------------------------------------------------
#: The 25 Kinect v2 joints in file order (NTU numbers them 1..25).
#: "left"/"right" are the subject's own sides, as in COCO.
NTU_JOINT_NAMES = (
    'base of the spine',     # 1
    'middle of the spine',   # 2
    'neck',                  # 3
    'head',                  # 4
    'left shoulder',         # 5
    'left elbow',            # 6
    'left wrist',            # 7
    'left hand',             # 8
    'right shoulder',        # 9
    'right elbow',           # 10
    'right wrist',           # 11
    'right hand',            # 12
    'left hip',              # 13
    'left knee',             # 14
    'left ankle',            # 15
    'left foot',             # 16
    'right hip',             # 17
    'right knee',            # 18
    'right ankle',           # 19
    'right foot',            # 20
    'spine',                 # 21 (spine at shoulder height)
    'tip of the left hand',  # 22
    'left thumb',            # 23
    'tip of the right hand',  # 24
    'right thumb',           # 25
)

#: The 17 COCO keypoints in COCO order.
COCO_KEYPOINT_NAMES = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
    'left_knee', 'right_knee', 'left_ankle', 'right_ankle')

#: For each COCO keypoint, the 0-based NTU joint it is taken from.
#: Kinect has no face points: nose, both eyes and both ears all take the NTU
#: *head* joint (4, 0-based 3). Shoulders, elbows, wrists, hips, knees and
#: ankles take the NTU joint of the same name and side. NTU's spine, neck,
#: hands, hand tips, thumbs and feet have no COCO counterpart and are dropped.
NTU_TO_COCO = (
    3, 3, 3, 3, 3,   # nose, left eye, right eye, left ear, right ear <- head
    4, 8,            # left / right shoulder
    5, 9,            # left / right elbow
    6, 10,           # left / right wrist
    12, 16,          # left / right hip
    13, 17,          # left / right knee
    14, 18,          # left / right ankle
)

# --------------------------------------------------------------------------
# Classes (label = action number - 1)
# --------------------------------------------------------------------------
NTU120_CLASSES = (
    'drink water', 'eat meal/snack', 'brushing teeth', 'brushing hair',
    'drop', 'pickup', 'throw', 'sitting down',
    'standing up (from sitting position)', 'clapping',  # A1-A10
    'reading', 'writing', 'tear up paper', 'wear jacket', 'take off jacket',
    'wear a shoe', 'take off a shoe', 'wear on glasses', 'take off glasses',
    'put on a hat/cap',  # A11-A20
    'take off a hat/cap', 'cheer up', 'hand waving', 'kicking something',
    'put something inside pocket / take out something from pocket',
    'hopping (one foot jumping)', 'jump up',
    'make a phone call/answer phone', 'playing with phone/tablet',
    'typing on a keyboard',  # A21-A30
    'pointing to something with finger', 'taking a selfie',
    'check time (from watch)', 'rub two hands together', 'nod head/bow',
    'shake head', 'wipe face', 'salute', 'put the palms together',
    'cross hands in front (say stop)',  # A31-A40
    'sneeze/cough', 'staggering', 'falling', 'touch head (headache)',
    'touch chest (stomachache/heart pain)', 'touch back (backache)',
    'touch neck (neckache)', 'nausea or vomiting condition',
    'use a fan (with hand or paper)/feeling warm',
    'punching/slapping other person',  # A41-A50
    'kicking other person', 'pushing other person',
    'pat on back of other person', 'point finger at the other person',
    'hugging other person', 'giving something to other person',
    "touch other person's pocket", 'handshaking',
    'walking towards each other', 'walking apart from each other',  # A51-A60
    'put on headphone', 'take off headphone', 'shoot at the basket',
    'bounce ball', 'tennis bat swing', 'juggling table tennis balls',
    'hush (quite)', 'flick hair', 'thumb up', 'thumb down',  # A61-A70
    'make ok sign', 'make victory sign', 'staple book', 'counting money',
    'cutting nails', 'cutting paper (using scissors)', 'snapping fingers',
    'open bottle', 'sniff (smell)', 'squat down',  # A71-A80
    'toss a coin', 'fold paper', 'ball up paper', 'play magic cube',
    'apply cream on face', 'apply cream on hand back', 'put on bag',
    'take off bag', 'put something into a bag',
    'take something out of a bag',  # A81-A90
    'open a box', 'move heavy objects', 'shake fist', 'throw up cap/hat',
    'hands up (both hands)', 'cross arms', 'arm circles', 'arm swings',
    'running on the spot', 'butt kicks (kick backward)',  # A91-A100
    'cross toe touch', 'side kick', 'yawn', 'stretch oneself', 'blow nose',
    'hit other person with something', 'wield knife towards other person',
    'knock over other person (hit with body)', "grab other person's stuff",
    'shoot at other person with a gun',  # A101-A110
    'step on foot', 'high-five', 'cheers and drink',
    'carry something with other person', 'take a photo of other person',
    'follow other person', "whisper in other person's ear",
    'exchange things with other person',
    "support somebody with one's hand (someone is sick, help him to walk)",
    'finger-guessing game (playing rock-paper-scissors)',  # A111-A120
)
NTU60_CLASSES = NTU120_CLASSES[:60]

# --------------------------------------------------------------------------
# Benchmark protocols
# --------------------------------------------------------------------------
#: NTU60 cross-subject: these performers train, all others validate.
NTU60_XSUB_TRAIN_SUBJECTS = (
    1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
#: NTU60 cross-view: cameras 2 and 3 train, camera 1 validates.
NTU60_XVIEW_TRAIN_CAMERAS = (2, 3)
#: NTU120 cross-subject: these performers train, all others validate.
NTU120_XSUB_TRAIN_SUBJECTS = NTU60_XSUB_TRAIN_SUBJECTS + (
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81,
    82, 83, 84, 85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103)
#: NTU120 cross-setup: even setup ids train, odd ones validate (see
#: :func:`is_training_sample`).

#: Actions (1-based ids) performed by two persons: NTU's "mutual actions",
#: A050-A060 in NTU60 and A106-A120 added by NTU120 (e.g. for keeping one or
#: two persons when extracting poses, as MMAction2's
#: ``ntu_pose_extraction.py`` does).
NTU_MUTUAL_ACTIONS = tuple(range(50, 61)) + tuple(range(106, 121))

DATASETS = {
    # name: (largest setup id, number of classes, benchmark names)
    'ntu60': dict(max_setup=17, num_classes=60, benchmarks=('xsub', 'xview')),
    'ntu120': dict(max_setup=32, num_classes=120, benchmarks=('xsub', 'xset')),
}


def check_dataset(dataset: str) -> dict:
    """Returns the :data:`DATASETS` entry, or a ValueError naming choices."""
    if dataset not in DATASETS:
        raise ValueError(f'dataset must be one of {sorted(DATASETS)}, '
                         f'got {dataset!r}')
    return DATASETS[dataset]


def class_names(dataset: str) -> tuple:
    """The class names of ``'ntu60'`` or ``'ntu120'``, in label order."""
    return NTU120_CLASSES[:check_dataset(dataset)['num_classes']]


def is_training_sample(info: dict, dataset: str, benchmark: str) -> bool:
    """Whether a parsed sample name belongs to the training part.

    Args:
        info: :func:`parse_sample_name` output.
        dataset: ``'ntu60'`` or ``'ntu120'``.
        benchmark: ``'xsub'`` / ``'xview'`` (ntu60), ``'xsub'`` / ``'xset'``
            (ntu120).
    """
    allowed = check_dataset(dataset)['benchmarks']
    if benchmark not in allowed:
        raise ValueError(f'{dataset} benchmarks are {allowed}, '
                         f'got {benchmark!r}')
    if benchmark == 'xsub':
        subjects = (NTU60_XSUB_TRAIN_SUBJECTS if dataset == 'ntu60'
                    else NTU120_XSUB_TRAIN_SUBJECTS)
        return info['performer'] in subjects
    if benchmark == 'xview':
        return info['camera'] in NTU60_XVIEW_TRAIN_CAMERAS
    return info['setup'] % 2 == 0  # xset


# --------------------------------------------------------------------------
# Sample names
# --------------------------------------------------------------------------
_SAMPLE_NAME = re.compile(
    r'S(?P<setup>\d{3})C(?P<camera>\d{3})P(?P<performer>\d{3})'
    r'R(?P<replication>\d{3})A(?P<action>\d{3})')


def parse_sample_name(name: str) -> dict:
    """``'S001C002P003R002A013'`` -> ``dict(setup=1, camera=2, performer=3,
    replication=2, action=13)``.

    Raises:
        ValueError: ``name`` is not ``SsssCcccPpppRrrrAaaa`` with 3-digit,
            1-based numbers.
    """
    match = _SAMPLE_NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(f'{name!r} is not an NTU sample name '
                         f'SsssCcccPpppRrrrAaaa (e.g. S001C002P003R002A013)')
    info = {key: int(value) for key, value in match.groupdict().items()}
    zeros = [key for key, value in info.items() if value == 0]
    if zeros:
        raise ValueError(f'{name!r}: {", ".join(zeros)} must be >= 1 '
                         f'(NTU numbers are 1-based)')
    return info


# --------------------------------------------------------------------------
# Samples with missing skeletons
# --------------------------------------------------------------------------
MISSING_SKELETONS_FILE = (Path(__file__).with_name(
    'ntu120_samples_with_missing_skeletons.txt'))


@lru_cache(maxsize=None)
def _missing_skeletons_ntu120() -> frozenset:
    names = MISSING_SKELETONS_FILE.read_text().split()
    for name in names:
        parse_sample_name(name)  # the list must be well formed
    return frozenset(names)


def missing_skeleton_samples(dataset: str = 'ntu120') -> set[str]:
    """The official samples with missing or incomplete skeletons.

    ``'ntu120'``: the 535 names of the NTU RGB+D 120 list; ``'ntu60'``: its
    302 entries with setup <= 17 (exactly the NTU RGB+D 60 list).
    """
    max_setup = check_dataset(dataset)['max_setup']
    return {name for name in _missing_skeletons_ntu120()
            if parse_sample_name(name)['setup'] <= max_setup}
