"""Reading and writing NTU RGB+D ``.skeleton`` files (Kinect v2 skeletons).

File layout (plain text, whitespace separated)::

    <number of frames>
    for each frame:
        <number of bodies>            (0 happens: nobody tracked in that frame)
        for each body:
            bodyID clipedEdges handLeftConfidence handLeftState
                handRightConfidence handRightState isRestricted leanX leanY
                trackingState
            25                        (number of joints)
            25 lines of:
                x y z depthX depthY colorX colorY
                orientationW orientationX orientationY orientationZ
                trackingState

``x, y, z`` are camera-space metres, ``depthX/depthY`` pixels of the 512x424
depth image, ``colorX/colorY`` pixels of the 1920x1080 colour image. A body
keeps its 64-bit ``bodyID`` across the frames in which Kinect tracks it, so a
sequence is stored here per body: the frames it appears in and its values in
those frames.

Only numpy and the standard library are used.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

NUM_JOINTS = 25
#: Per-body fields that follow the bodyID on a body line.
BODY_INFO_FIELDS = ('clipedEdges', 'handLeftConfidence', 'handLeftState',
                    'handRightConfidence', 'handRightState', 'isRestricted',
                    'leanX', 'leanY', 'trackingState')
#: Per-joint float fields; each joint line ends with an integer trackingState.
JOINT_FIELDS = ('x', 'y', 'z', 'depthX', 'depthY', 'colorX', 'colorY',
                'orientationW', 'orientationX', 'orientationY',
                'orientationZ')
#: Joint trackingState values (Kinect v2).
NOT_TRACKED, INFERRED, TRACKED = 0, 1, 2


class SkeletonFormatError(ValueError):
    """A ``.skeleton`` file does not follow the NTU format.

    The message names the file and the (1-based) line at fault.
    """

    def __init__(self, path, line_number, problem):
        self.path = str(path)
        self.line_number = line_number
        self.problem = problem
        super().__init__(f'{self.path}, line {line_number}: {problem}')

    def __reduce__(self):  # keep it picklable across multiprocessing
        return type(self), (self.path, self.line_number, self.problem)


@dataclass
class SkeletonBody:
    """One tracked body over the frames in which it appears.

    Attributes:
        body_id: NTU's 64-bit body id, kept as text.
        frame_index: int64 ``[n]`` 0-based frames in which the body appears,
            increasing.
        body_info: float32 ``[n, 9]`` values of :data:`BODY_INFO_FIELDS`.
        joints: float32 ``[n, 25, 11]`` values of :data:`JOINT_FIELDS`.
        tracking: int8 ``[n, 25]`` joint trackingState (0 not tracked,
            1 inferred, 2 tracked).
    """
    body_id: str
    frame_index: np.ndarray
    body_info: np.ndarray
    joints: np.ndarray
    tracking: np.ndarray

    def motion(self) -> float:
        """Sum over x, y, z of the variance over time (0 for one frame)."""
        if len(self.frame_index) == 0:
            return 0.0
        xyz = self.joints[:, :, :3].astype(np.float64)
        return float(xyz.var(axis=0).sum())


@dataclass
class SkeletonSequence:
    """A whole ``.skeleton`` file: the frame count and every body in it."""
    num_frames: int
    bodies: list[SkeletonBody] = field(default_factory=list)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------
class _LineCursor:
    """Walks the non-blank lines of a file, remembering their line numbers."""

    def __init__(self, path, text):
        self.path = path
        self.lines = [(number, line.split())
                      for number, line in enumerate(text.splitlines(), 1)
                      if line.strip()]
        self.position = 0

    def error(self, line_number, problem):
        return SkeletonFormatError(self.path, line_number, problem)

    def next(self, what):
        """Returns ``(line_number, tokens)`` of the next non-blank line."""
        if self.position >= len(self.lines):
            last = self.lines[-1][0] if self.lines else 0
            raise self.error(last + 1,
                             f'unexpected end of file, expected {what}')
        item = self.lines[self.position]
        self.position += 1
        return item

    def next_count(self, what, expected=None):
        """Reads a line holding exactly one non-negative integer."""
        number, tokens = self.next(what)
        if len(tokens) != 1:
            raise self.error(number, f'expected {what} (one integer), '
                             f'got {len(tokens)} fields')
        try:
            value = int(tokens[0])
        except ValueError:
            raise self.error(number, f'expected {what}, got non-numeric '
                             f'{tokens[0]!r}') from None
        if value < 0:
            raise self.error(number, f'{what} is negative ({value})')
        if expected is not None and value != expected:
            raise self.error(number, f'expected {what} = {expected}, '
                             f'got {value}')
        return value


def _to_floats(cursor, number, tokens, what):
    try:
        return [float(token) for token in tokens]
    except ValueError:
        bad = next(t for t in tokens if not _is_number(t))
        raise cursor.error(number,
                           f'non-numeric {what} field {bad!r}') from None


def _is_number(token):
    try:
        float(token)
        return True
    except ValueError:
        return False


def _read_body(cursor):
    """Reads one body block; returns ``(body_id, info[9], joints[25, 12])``."""
    number, tokens = cursor.next('a body line')
    if len(tokens) != 1 + len(BODY_INFO_FIELDS):
        raise cursor.error(number, f'body line must have '
                           f'{1 + len(BODY_INFO_FIELDS)} fields '
                           f'(bodyID + {len(BODY_INFO_FIELDS)}), '
                           f'got {len(tokens)}')
    body_id = tokens[0]
    info = _to_floats(cursor, number, tokens[1:], 'body')
    cursor.next_count('the joint count', expected=NUM_JOINTS)
    rows = []
    for _ in range(NUM_JOINTS):
        number, tokens = cursor.next('a joint line')
        if len(tokens) != len(JOINT_FIELDS) + 1:
            raise cursor.error(number, f'joint line must have '
                               f'{len(JOINT_FIELDS) + 1} fields, '
                               f'got {len(tokens)}')
        row = _to_floats(cursor, number, tokens, 'joint')
        state = row[-1]
        if state not in (NOT_TRACKED, INFERRED, TRACKED):
            raise cursor.error(number, f'joint trackingState must be 0, 1 '
                               f'or 2, got {tokens[-1]!r}')
        rows.append(row)
    return body_id, info, rows


def parse_skeleton_text(text: str, path='<string>') -> SkeletonSequence:
    """Parses the contents of a ``.skeleton`` file (``path`` is for errors)."""
    cursor = _LineCursor(path, text)
    if not cursor.lines:
        raise SkeletonFormatError(path, 1, 'empty file')
    num_frames = cursor.next_count('the frame count')

    # body key -> lists of per-frame values, in order of first appearance
    collected: dict[tuple[str, int], dict[str, list]] = {}
    for frame in range(num_frames):
        num_bodies = cursor.next_count(f'the body count of frame {frame + 1}')
        seen_in_frame: dict[str, int] = {}
        for _ in range(num_bodies):
            body_id, info, rows = _read_body(cursor)
            # The same id twice in one frame would be two different bodies.
            occurrence = seen_in_frame.get(body_id, 0)
            seen_in_frame[body_id] = occurrence + 1
            entry = collected.setdefault(
                (body_id, occurrence),
                dict(frames=[], info=[], joints=[]))
            entry['frames'].append(frame)
            entry['info'].append(info)
            entry['joints'].append(rows)

    if cursor.position < len(cursor.lines):
        number, _ = cursor.lines[cursor.position]
        raise cursor.error(number, f'unexpected content after the last of '
                           f'{num_frames} frames')

    bodies = []
    for (body_id, _), entry in collected.items():
        joints = np.asarray(entry['joints'], dtype=np.float64)
        bodies.append(SkeletonBody(
            body_id=body_id,
            frame_index=np.asarray(entry['frames'], dtype=np.int64),
            body_info=np.asarray(entry['info'], dtype=np.float32),
            joints=joints[:, :, :len(JOINT_FIELDS)].astype(np.float32),
            tracking=joints[:, :, len(JOINT_FIELDS)].astype(np.int8)))
    return SkeletonSequence(num_frames=num_frames, bodies=bodies)


def read_skeleton(path) -> SkeletonSequence:
    """Reads an NTU ``.skeleton`` file.

    Raises:
        SkeletonFormatError: the file is empty, truncated, has a non-numeric
            field or a wrong joint count; the message names file and line.
        OSError: the file cannot be read.
    """
    with open(path, 'r', encoding='ascii', errors='replace') as f:
        text = f.read()
    return parse_skeleton_text(text, path=os.fspath(path))


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------
def _format_number(value) -> str:
    """Integral values as integers, others as the shortest float32 text.

    The values are stored as float32, so the shortest text that reads back
    as the same float32 (``-0.0276``, ``1e-06``) makes read(write(x)) exact.
    """
    value = np.float32(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def format_skeleton(seq: SkeletonSequence) -> str:
    """Returns the ``.skeleton`` text of a sequence."""
    _check_sequence(seq)
    per_frame: list[list[tuple[SkeletonBody, int]]] = [
        [] for _ in range(seq.num_frames)]
    for body in seq.bodies:
        for row, frame in enumerate(body.frame_index):
            per_frame[int(frame)].append((body, row))

    lines = [str(seq.num_frames)]
    for entries in per_frame:
        lines.append(str(len(entries)))
        for body, row in entries:
            info = ' '.join(_format_number(v) for v in body.body_info[row])
            lines.append(f'{body.body_id} {info}')
            lines.append(str(NUM_JOINTS))
            for joint, state in zip(body.joints[row], body.tracking[row]):
                values = ' '.join(_format_number(v) for v in joint)
                lines.append(f'{values} {int(state)}')
    return '\n'.join(lines) + '\n'


def _check_sequence(seq: SkeletonSequence):
    for body in seq.bodies:
        n = len(body.frame_index)
        expected = {'body_info': (n, len(BODY_INFO_FIELDS)),
                    'joints': (n, NUM_JOINTS, len(JOINT_FIELDS)),
                    'tracking': (n, NUM_JOINTS)}
        for name, shape in expected.items():
            actual = tuple(np.shape(getattr(body, name)))
            if actual != shape:
                raise ValueError(f'body {body.body_id}: {name} has shape '
                                 f'{actual}, expected {shape}')
        if n and (np.min(body.frame_index) < 0
                  or np.max(body.frame_index) >= seq.num_frames):
            raise ValueError(f'body {body.body_id}: frame_index outside '
                             f'[0, {seq.num_frames})')
        if len(set(np.asarray(body.frame_index).tolist())) != n:
            raise ValueError(f'body {body.body_id}: repeated frame_index')
        body_id = str(body.body_id)
        if not body_id or any(c.isspace() for c in body_id):
            raise ValueError(f'body id {body.body_id!r} must be one '
                             f'non-empty word')


def write_skeleton(path, seq: SkeletonSequence) -> None:
    """Writes a sequence as an NTU ``.skeleton`` file, atomically.

    The text goes to a temporary file in the same folder, which then
    replaces ``path``; readers never see a half-written file.
    """
    text = format_skeleton(seq)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(dir=folder, prefix='.tmp_',
                                    suffix='.skeleton')
    try:
        with os.fdopen(fd, 'w', encoding='ascii', newline='\n') as f:
            f.write(text)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise


# --------------------------------------------------------------------------
# Dense arrays
# --------------------------------------------------------------------------
def select_bodies(seq: SkeletonSequence, max_bodies: int = 2,
                  select: str = 'motion') -> list[SkeletonBody]:
    """Chooses at most ``max_bodies`` bodies.

    ``select='motion'`` keeps the bodies that move most (sum over x, y, z of
    the variance over time), largest first; this drops the spurious, nearly
    static bodies Kinect sometimes reports (furniture, a second person in the
    background). ``select='order'`` keeps the first bodies to appear.
    Ties keep the order of appearance.
    """
    if select == 'motion':
        ranked = sorted(seq.bodies, key=lambda body: -body.motion())
    elif select == 'order':
        ranked = list(seq.bodies)
    else:
        raise ValueError(f"select must be 'motion' or 'order', got {select!r}")
    return ranked[:max_bodies]


def to_arrays(seq: SkeletonSequence, max_bodies: int = 2,
              select: str = 'motion'):
    """Dense per-frame arrays of the selected bodies.

    Returns:
        tuple: ``joints3d`` float32 ``[M, T, 25, 3]`` (x, y, z metres),
        ``color2d`` float32 ``[M, T, 25, 2]`` (colorX, colorY),
        ``depth2d`` float32 ``[M, T, 25, 2]`` (depthX, depthY) and
        ``tracking`` int8 ``[M, T, 25]``, with ``M = min(max_bodies,
        number of bodies)`` and ``T = seq.num_frames``. Frames in which a
        body is absent are zeros with tracking 0.
    """
    bodies = select_bodies(seq, max_bodies, select)
    shape = (len(bodies), seq.num_frames, NUM_JOINTS)
    joints3d = np.zeros(shape + (3,), np.float32)
    color2d = np.zeros(shape + (2,), np.float32)
    depth2d = np.zeros(shape + (2,), np.float32)
    tracking = np.zeros(shape, np.int8)
    for m, body in enumerate(bodies):
        frames = np.asarray(body.frame_index, dtype=np.int64)
        joints3d[m, frames] = body.joints[:, :, 0:3]
        depth2d[m, frames] = body.joints[:, :, 3:5]
        color2d[m, frames] = body.joints[:, :, 5:7]
        tracking[m, frames] = body.tracking
    return joints3d, color2d, depth2d, tracking
