"""Decode a few frames of a video with PyAV, decoding only what they need.

A training clip takes 16 of a video's ~100 frames. decord's ``get_batch``
reaches them by seeking, and on an intra-only codec (MJPEG) its per-frame
seek costs more than decoding the frame (16 frames of a 1080p MJPG AVI: 1.8x
the time of 8). :func:`pyav_decode` demuxes the whole file first (cheap:
no decoding) and then decodes, for every requested frame, only the packets
from the last keyframe at or before it up to it -- one packet per frame on
an intra-only codec, the needed stretch of each GOP on an inter-frame one,
each packet at most once. Frames come out bit-identical to decord's (both
are FFmpeg + swscale to ``rgb24``; tested).

``lowres`` asks the decoder itself for a 1/2, 1/4 or 1/8 size picture (the
IDCT and motion compensation run at that size; FFmpeg's ``lowres`` option)
-- supported by the DCT codecs of :data:`LOWRES_CODECS` (MJPEG, MPEG-1/2,
MPEG-4 Part 2 / XviD / DivX, H.263, MS-MPEG4, WMV1/2), not by H.264 /
HEVC / VP9 / AV1, for which it is ignored (the frames come out full size).
:func:`lowres_for_box` picks the factor that still leaves a region of a
given size at least ``min_side`` pixels.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

#: FFmpeg decoders that implement ``lowres`` and their largest factor
#: (``AVCodec.max_lowres``, not exposed by PyAV): 2**k smaller, k <= 3.
LOWRES_CODECS: Dict[str, int] = {
    'mjpeg': 3, 'mpeg1video': 3, 'mpeg2video': 3, 'mpeg4': 3, 'h263': 3,
    'h263p': 3, 'msmpeg4v1': 3, 'msmpeg4v2': 3, 'msmpeg4': 3, 'wmv1': 3,
    'wmv2': 3, 'flv': 3, 'h261': 3
}


class FrameRangeError(IndexError):
    """A requested frame outside the video; ``length`` is its frame
    count."""

    def __init__(self, msg: str, length: int) -> None:
        super().__init__(msg)
        self.length = length


def lowres_for_box(box_side: float, min_side: int, max_lowres: int = 3) -> int:
    """Largest ``k <= max_lowres`` with ``box_side / 2**k >= min_side``
    (0 when ``box_side`` is already below ``min_side``)."""
    k = 0
    while k < max_lowres and box_side / 2**(k + 1) >= min_side:
        k += 1
    return k


def pyav_decode(src: Union[str, object],
                indices: Sequence[int],
                lowres: int = 0,
                num_threads: int = 1) -> Tuple[List[np.ndarray], int, int]:
    """Frames ``indices`` (display order, sorted, unique) of ``src``.

    Args:
        src: A path or a binary file object.
        indices: Frame numbers, 0-based, sorted ascending without repeats.
        lowres: Decode at ``1 / 2**lowres`` size when the codec supports it
            (:data:`LOWRES_CODECS`); clipped to the codec's maximum.
        num_threads: Slice threads of the decoder (1: none). Frame threads
            are not used: they delay frames, which the packet-exact
            decoding here does not expect.

    Returns:
        ``(frames, length, lowres)``: ``HxWx3`` uint8 RGB frames in the order
        of ``indices``, the number of frames of the video (packets with a
        timestamp; an empty packet, an AVI "dropped frame", repeats the
        previous picture as players show it) and the factor really applied.

    Raises:
        FrameRangeError: an index outside ``[0, length)`` (an
            ``IndexError`` with the frame count as ``length``).
        IOError: no video stream, or a requested frame does not decode.
    """
    import av
    wanted = [int(i) for i in indices]
    container = av.open(src)
    try:
        if not container.streams.video:
            raise IOError('no video stream')
        stream = container.streams.video[0]
        ctx = stream.codec_context
        ctx.thread_type = 'SLICE' if num_threads > 1 else 'NONE'
        ctx.thread_count = max(1, int(num_threads))
        lowres = min(int(lowres), LOWRES_CODECS.get(ctx.name, 0))
        if lowres > 0:
            ctx.options = {'lowres': str(lowres)}
        packets = [p for p in container.demux(stream)
                   if p.pts is not None or p.dts is not None]
        length = len(packets)
        if wanted and (wanted[0] < 0 or wanted[-1] >= length):
            bad = wanted[0] if wanted[0] < 0 else wanted[-1]
            raise FrameRangeError(
                f'frame {bad} requested of a video of {length} frames',
                length)
        pts = [p.pts if p.pts is not None else p.dts for p in packets]
        in_order = all(a < b for a, b in zip(pts, pts[1:]))
        frames = _decode_needed(ctx, packets, wanted) if in_order else None
        if frames is None:
            ctx.flush_buffers()
            frames = _decode_reordered(ctx, packets, pts, wanted)
    finally:
        container.close()
    missing = [i for i in wanted if i not in frames]
    if missing:
        raise IOError(f'frames {missing} did not decode')
    return [frames[i] for i in wanted], length, lowres


def _decode_needed(ctx, packets, wanted: List[int]
                   ) -> Optional[Dict[int, np.ndarray]]:
    """Packets in display order (no B-frames): decode, for each wanted frame,
    the run from its keyframe; each packet at most once. None when the
    decoder does not give one picture per packet (a delay): the caller then
    decodes everything."""
    need = np.zeros(len(packets), dtype=bool)
    for j in wanted:
        k = j
        while k > 0 and not packets[k].is_keyframe and not need[k - 1]:
            k -= 1
        need[k:j + 1] = True
    want = set(wanted)
    frames: Dict[int, np.ndarray] = {}
    picture = None  # the last decoded picture (VideoFrame, then ndarray)
    for i in np.flatnonzero(need):
        if packets[i].size:
            decoded = ctx.decode(packets[i])
            if len(decoded) != 1:
                return None
            picture = decoded[0]
        if i in want:
            if picture is None:
                return None
            if not isinstance(picture, np.ndarray):
                picture = picture.to_ndarray(format='rgb24')
            frames[int(i)] = picture
    return frames


def _decode_reordered(ctx, packets, pts, wanted) -> Dict[int, np.ndarray]:
    """Packets in decode order (B-frames) or a delaying decoder: decode
    from the start until every wanted frame is out, placing pictures by
    timestamp."""
    rank = {t: r for r, t in enumerate(sorted(pts))}
    want = set(wanted)
    frames: Dict[int, np.ndarray] = {}
    for packet in [p for p in packets if p.size] + [None]:  # None: flush
        for frame in ctx.decode(packet):
            r = rank.get(frame.pts)
            if r in want:
                frames[r] = frame.to_ndarray(format='rgb24')
        if len(frames) == len(want):
            break
    return frames
