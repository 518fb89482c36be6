"""Reading the frames of a video in batches, with errors that name it."""
from __future__ import annotations

import os
from typing import Iterator, Tuple

import numpy as np

import data_prep  # noqa: F401  (imports cv2 before decord)


class BadVideoError(RuntimeError):
    """A video cannot be opened or decoded, or has no frame.

    The message names the video file; ``path`` holds it.
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


class VideoFrames:
    """Frames of one video, decoded with decord (like MMAction2's
    ``DecordInit`` / ``DecordDecode``, so frame ``i`` here is frame ``i``
    of the training pipeline), returned as BGR ``uint8`` ``HxWx3`` arrays,
    the colour order MMDetection's and MMPose's pipelines expect from
    ``cv2.imread``.

    Args:
        path: the video file.
        num_threads: decord decoding threads (0: decord's choice).

    Raises:
        BadVideoError: the file does not exist, cannot be opened, or holds
            no frame.
    """

    def __init__(self, path, num_threads: int = 1):
        import decord
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise BadVideoError(self.path, 'no such video file')
        try:
            self._reader = decord.VideoReader(self.path,
                                              num_threads=num_threads)
            self.num_frames = len(self._reader)
        except Exception as error:  # decord raises its own DECORDError
            if _has_no_frame(self.path):
                raise BadVideoError(self.path, 'the video has no frame '
                                    '(decord cannot open it)') from None
            raise BadVideoError(self.path,
                                f'cannot open the video ({error})') from None
        if self.num_frames <= 0:
            raise BadVideoError(self.path, 'the video has no frame')
        first = self.read(0, 1)[0]
        #: (H, W) of the decoded frames
        self.shape: Tuple[int, int] = (int(first.shape[0]),
                                       int(first.shape[1]))

    def __len__(self) -> int:
        return self.num_frames

    def read(self, start: int, stop: int) -> list:
        """Frames ``start .. stop - 1`` as a list of BGR arrays."""
        try:
            batch = self._reader.get_batch(list(range(start, stop)))
            rgb = batch.asnumpy()
        except Exception as error:
            raise BadVideoError(
                self.path, f'cannot decode frames {start}..{stop - 1} of '
                f'{self.num_frames} ({error})') from None
        if rgb.shape[0] != stop - start or rgb.ndim != 4:
            raise BadVideoError(
                self.path, f'decoded {rgb.shape[0]} frames for the '
                f'{stop - start} requested at {start}')
        return [np.ascontiguousarray(frame[..., ::-1]) for frame in rgb]

    def batches(self, batch_size: int) -> Iterator[Tuple[int, list]]:
        """Yields ``(first index, frames)`` over the whole video."""
        for start in range(0, self.num_frames, batch_size):
            yield start, self.read(start,
                                   min(start + batch_size, self.num_frames))


def read_all_frames(path, num_threads: int = 1) -> list:
    """Every frame of a video (BGR), for tests and benchmarks."""
    video = VideoFrames(path, num_threads)
    return video.read(0, len(video))
