"""Reading the RGB frames of a clip in batches, with errors that name the
file: a video, a range of a longer video (``frame_offset``), or a folder of
per-frame images (``rgb_frames``)."""
from __future__ import annotations

import os
from typing import Iterator, Optional, Sequence, Tuple

import numpy as np

import data_prep  # noqa: F401  (imports cv2 before decord)


class BadVideoError(RuntimeError):
    """A video (or frame folder / file) cannot be opened or decoded, has no
    frame, or ends before the clip.

    The message names the file; ``path`` holds it.
    """

    def __init__(self, path, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f'{self.path}: {reason}')


def _has_no_frame(path: str) -> bool:
    """True when OpenCV opens the container but finds no frame in it (decord
    refuses such files with an obscure filter-graph error)."""
    import cv2
    capture = cv2.VideoCapture(path)
    try:
        return bool(capture.isOpened()) and \
            capture.get(cv2.CAP_PROP_FRAME_COUNT) <= 0 and \
            not capture.read()[0]
    finally:
        capture.release()


class _Frames:
    """What :class:`VideoFrames` and :class:`FrameFolder` share: ``path``,
    ``num_frames`` (the clip's), ``shape`` (H, W), ``read(start, stop)``
    (clip indices) and :meth:`batches`."""

    path: str
    num_frames: int
    shape: Tuple[int, int]

    def __len__(self) -> int:
        return self.num_frames

    def read(self, start: int, stop: int) -> list:
        raise NotImplementedError

    def batches(self, batch_size: int) -> Iterator[Tuple[int, list]]:
        """Yields ``(first index, frames)`` over the whole clip."""
        for start in range(0, self.num_frames, batch_size):
            yield start, self.read(start,
                                   min(start + batch_size, self.num_frames))

    def _clip_range(self, length: int, frame_offset: int,
                    num_frames: Optional[int], unit: str) -> None:
        """Sets ``frame_offset`` and ``num_frames`` of a clip of a source
        of ``length`` frames (all from ``frame_offset`` when
        ``num_frames`` is None)."""
        frame_offset = int(frame_offset)
        if num_frames is None:
            num_frames = length - frame_offset
        num_frames = int(num_frames)
        if frame_offset < 0 or num_frames <= 0:
            raise BadVideoError(
                self.path, f'empty clip: {num_frames} frames from frame '
                f'{frame_offset}')
        if frame_offset + num_frames > length:
            raise BadVideoError(
                self.path, f'the clip is frames {frame_offset}..'
                f'{frame_offset + num_frames - 1} but the {unit} has '
                f'{length} frames')
        self.frame_offset, self.num_frames = frame_offset, num_frames


class VideoFrames(_Frames):
    """Frames of one video, decoded with decord (like MMAction2's
    ``DecordInit`` / ``DecordDecode``, so frame ``i`` here is frame ``i``
    of the training pipeline), returned as BGR ``uint8`` ``HxWx3`` arrays,
    the colour order MMDetection's and MMPose's pipelines expect from
    ``cv2.imread``.

    A clip that is a range of a longer video (an annotation's
    ``frame_offset``, PKU-MMD, FineGYM) is read as such: index ``i`` here is
    frame ``frame_offset + i`` of the video, and ``num_frames`` the clip's
    length (default: up to the end of the video).

    Args:
        path: the video file.
        num_threads: decord decoding threads (0: decord's choice).
        frame_offset: the clip's first frame in the video.
        num_frames: the clip's length (None: to the end of the video).

    Raises:
        BadVideoError: the file does not exist, cannot be opened, holds
            no frame, or ends before the clip does.
    """

    def __init__(self, path, num_threads: int = 1, frame_offset: int = 0,
                 num_frames: Optional[int] = None):
        import decord
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise BadVideoError(self.path, 'no such video file')
        try:
            self._reader = decord.VideoReader(self.path,
                                              num_threads=num_threads)
            #: frames of the whole video
            self.video_frames = len(self._reader)
        except Exception as error:  # decord raises its own DECORDError
            if _has_no_frame(self.path):
                raise BadVideoError(self.path, 'the video has no frame '
                                    '(decord cannot open it)') from None
            raise BadVideoError(self.path,
                                f'cannot open the video ({error})') from None
        if self.video_frames <= 0:
            raise BadVideoError(self.path, 'the video has no frame')
        self._clip_range(self.video_frames, frame_offset, num_frames,
                         'video')
        first = self.read(0, 1)[0]
        #: (H, W) of the decoded frames
        self.shape: Tuple[int, int] = (int(first.shape[0]),
                                       int(first.shape[1]))

    def read(self, start: int, stop: int) -> list:
        """Frames ``start .. stop - 1`` of the clip as a list of BGR
        arrays."""
        first = self.frame_offset + start
        try:
            batch = self._reader.get_batch(
                list(range(first, self.frame_offset + stop)))
            rgb = batch.asnumpy()
        except Exception as error:
            raise BadVideoError(
                self.path, f'cannot decode frames {first}..'
                f'{self.frame_offset + stop - 1} of {self.video_frames} '
                f'({error})') from None
        if rgb.shape[0] != stop - start or rgb.ndim != 4:
            raise BadVideoError(
                self.path, f'decoded {rgb.shape[0]} frames for the '
                f'{stop - start} requested at {first}')
        return [np.ascontiguousarray(frame[..., ::-1]) for frame in rgb]


class FrameFolder(_Frames):
    """Frames of a folder of per-frame images (an annotation's ``rgb_path``
    folder with its ``rgb_frames`` list: NW-UCLA, UWA3D II, PennAction),
    as BGR ``uint8`` ``HxWx3`` arrays (grey images are expanded).

    Index ``i`` is the file ``files[frame_offset + i]``, as
    ``MultiModalDecode`` reads the folder.

    Args:
        path: the folder.
        files: the frame file names (relative to ``path``) in frame order.
        frame_offset: the clip's first entry of ``files``.
        num_frames: the clip's length (None: to the end of ``files``).

    Raises:
        BadVideoError: the folder does not exist, ``files`` is empty or
            shorter than the clip; when reading, a frame file that is
            missing or does not decode (naming it) or has another size.
    """

    def __init__(self, path, files: Sequence[str], frame_offset: int = 0,
                 num_frames: Optional[int] = None):
        self.path = os.fspath(path)
        if not os.path.isdir(self.path):
            raise BadVideoError(self.path, 'no such frame folder')
        self.files = list(files)
        if not self.files:
            raise BadVideoError(self.path, 'no frame file listed')
        self._clip_range(len(self.files), frame_offset, num_frames,
                         'frame list')
        first = self._read_file(self.files[self.frame_offset])
        self.shape: Tuple[int, int] = (int(first.shape[0]),
                                       int(first.shape[1]))

    def _read_file(self, name: str) -> np.ndarray:
        import cv2
        path = os.path.join(self.path, name)
        if not os.path.isfile(path):
            raise BadVideoError(path, 'no such frame file')
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise BadVideoError(path, 'unreadable frame image')
        return image

    def read(self, start: int, stop: int) -> list:
        """Frames ``start .. stop - 1`` of the clip as a list of BGR
        arrays."""
        frames = []
        for name in self.files[self.frame_offset + start:
                               self.frame_offset + stop]:
            image = self._read_file(name)
            if tuple(image.shape[:2]) != self.shape:
                raise BadVideoError(
                    os.path.join(self.path, name),
                    f'{image.shape[1]}x{image.shape[0]} while the first '
                    f'frame is {self.shape[1]}x{self.shape[0]}')
            frames.append(image)
        return frames


def open_frames(path, num_threads: int = 1,
                frame_files: Optional[Sequence[str]] = None,
                frame_offset: int = 0,
                num_frames: Optional[int] = None) -> _Frames:
    """The clip of an annotation's RGB: :class:`FrameFolder` when
    ``frame_files`` is given (``rgb_frames``), else :class:`VideoFrames`.

    Raises:
        BadVideoError: see both; also a folder given without its
            ``frame_files``.
    """
    if frame_files is not None:
        return FrameFolder(path, frame_files, frame_offset, num_frames)
    if os.path.isdir(path):
        raise BadVideoError(path, 'a folder of frames needs the list of '
                            "its frame files (the annotation's rgb_frames)")
    return VideoFrames(path, num_threads, frame_offset, num_frames)


def read_all_frames(path, num_threads: int = 1) -> list:
    """Every frame of a video (BGR), for tests and benchmarks."""
    video = VideoFrames(path, num_threads)
    return video.read(0, len(video))
