"""A one-line progress bar of videos and frames on stderr."""
from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


class ProgressBar:
    """``videos 3/10 | frames 1234/5678 | 41.2 frames/s 0.31 videos/s |
    ETA 0:02:41``.

    The ETA comes from the frame rate (videos differ in length). On a
    terminal the line is redrawn at most every ``interval`` seconds; into a
    file or pipe a new line is written at most every ``30 * interval``.

    Args:
        num_videos: videos to process.
        num_frames: their frames (an estimate is fine).
        file: stream to write to (default ``sys.stderr``).
        enabled: False makes every method a no-op.
    """

    def __init__(self, num_videos: int, num_frames: float, file=None,
                 interval: float = 0.5, enabled: bool = True):
        self.num_videos, self.num_frames = num_videos, float(num_frames)
        self.videos = 0
        self.frames = 0.0
        self.file = file if file is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.file, 'isatty', lambda: False)())
        self.interval = interval if self.tty else 30 * interval
        self.start = time.monotonic()
        self._last = 0.0

    def add_frames(self, frames: float) -> None:
        self.frames += frames
        self.render()

    def add_video(self) -> None:
        self.videos += 1
        self.render(force=self.videos == self.num_videos)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        fps = self.frames / elapsed
        left = max(self.num_frames - self.frames, 0.0)
        eta = _clock(left / fps) if fps > 0 else '?'
        return (f'videos {self.videos}/{self.num_videos} | frames '
                f'{int(self.frames)}/{int(self.num_frames)} | {fps:.2f} '
                f'frames/s {self.videos / elapsed:.3f} videos/s | elapsed '
                f'{_clock(elapsed)} ETA {eta}')

    def render(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        end = '' if self.tty else '\n'
        prefix = '\r' if self.tty else ''
        print(f'{prefix}{self.line()}', end=end, file=self.file, flush=True)

    def close(self) -> None:
        if not self.enabled:
            return
        self.render(force=True)
        if self.tty:
            print(file=self.file, flush=True)
