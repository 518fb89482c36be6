"""PyAV frame decoding (mmar_ext/datasets/transforms/video_reader.py) and
MultiModalDecode(video_backend='pyav', lowres_min_box=...): the same
pixels as decord on intra-only, inter-frame and B-frame videos, reduced-size
decoding chosen from the skeleton box, and the errors of a bad file."""
import av
import cv2
import decord
import numpy as np
import pytest

from mmar_ext.datasets.transforms import MultiModalDecode
from mmar_ext.datasets.transforms.video_reader import (FrameRangeError,
                                                       lowres_for_box,
                                                       pyav_decode)

FRAMES, W, H = 40, 320, 240


def _pictures():
    """A textured picture moving right, with a moving disc."""
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 255, (H // 8, W // 8, 3), np.uint8),
                      (W, H), interpolation=cv2.INTER_LINEAR)
    for t in range(FRAMES):
        img = np.roll(base, 3 * t, axis=1).copy()
        cv2.circle(img, (40 + 5 * t, H // 2), 30, (0, 0, 255), -1)
        yield img


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    paths = {}
    for codec in ('MJPG', 'XVID'):  # intra-only; inter-frame, GOP of 12
        path = str(root / f'{codec}.avi')
        writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*codec), 30,
                                 (W, H))
        for img in _pictures():
            writer.write(img)
        writer.release()
        paths[codec] = path
    # H.264 with B-frames: packets in decode order, not display order
    path = str(root / 'h264_bframes.mp4')
    with av.open(path, 'w') as out:
        stream = out.add_stream('libx264', rate=30)
        stream.width, stream.height, stream.pix_fmt = W, H, 'yuv420p'
        stream.options = {'bf': '2', 'g': '15', 'preset': 'ultrafast'}
        stream.codec_context.max_b_frames = 2
        for img in _pictures():
            frame = av.VideoFrame.from_ndarray(img[..., ::-1].copy(),
                                               format='rgb24')
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    paths['H264'] = path
    return paths


INDICES = [[0], [3, 4, 5], [1, 13, 14, 26, 39], list(range(0, FRAMES, 3)),
           [38, 39]]


@pytest.mark.parametrize('codec', ['MJPG', 'XVID', 'H264'])
def test_pyav_equals_decord(videos, codec):
    reader = decord.VideoReader(videos[codec], num_threads=1)
    assert len(reader) == FRAMES
    for inds in INDICES:
        expected = reader.get_batch(inds).asnumpy()
        frames, length, lowres = pyav_decode(videos[codec], inds)
        assert (length, lowres) == (FRAMES, 0)
        assert len(frames) == len(inds)
        for got, want in zip(frames, expected):
            np.testing.assert_array_equal(got, want)


def test_h264_really_has_bframes(videos):
    """The reordered path is exercised: timestamps not in packet order."""
    with av.open(videos['H264']) as c:
        pts = [p.pts for p in c.demux(c.streams.video[0]) if p.size]
    assert pts != sorted(pts)


def test_out_of_range_and_lowres_choice(videos):
    with pytest.raises(FrameRangeError) as e:
        pyav_decode(videos['XVID'], [5, FRAMES])
    assert e.value.length == FRAMES
    assert lowres_for_box(900, 224) == 2   # 900/4 = 225 >= 224
    assert lowres_for_box(447, 224) == 0   # half would be 223.5
    assert lowres_for_box(448, 224) == 1
    assert lowres_for_box(5000, 224) == 3  # 1/8 at most
    # H.264 cannot decode at reduced size: asked, not applied
    frames, _, lowres = pyav_decode(videos['H264'], [2], lowres=1)
    assert lowres == 0 and frames[0].shape == (H, W, 3)
    frames, _, lowres = pyav_decode(videos['XVID'], [2], lowres=1)
    assert lowres == 1 and frames[0].shape == (H // 2, W // 2, 3)


def _results(path, inds, kp_span=None):
    results = dict(frame_dir='S001C001P001R001A001', modalities=['rgb'],
                   rgb_path=path, total_frames=FRAMES,
                   frame_inds=np.asarray(inds), img_shape=(H, W))
    if kp_span is not None:  # one person, 17 joints on a diagonal
        x = np.linspace(10, 10 + kp_span, 17, dtype=np.float32)
        kp = np.stack([x, np.minimum(x, H - 1)], -1)
        results['keypoint'] = np.tile(kp, (1, FRAMES, 1, 1))
        results['keypoint_score'] = np.ones((1, FRAMES, 17), np.float32)
    return results


@pytest.mark.parametrize('codec', ['MJPG', 'XVID'])
def test_multimodal_decode_backends_agree(videos, codec):
    inds = [4, 4, 9, 30, 2]  # repeats and any order, as samplers give
    a = MultiModalDecode()(_results(videos[codec], inds))
    b = MultiModalDecode(video_backend='pyav')(_results(videos[codec], inds))
    assert len(a['rgb_imgs']) == len(b['rgb_imgs']) == len(inds)
    for x, y in zip(a['rgb_imgs'], b['rgb_imgs']):
        np.testing.assert_array_equal(x, y)
    assert b['rgb_lowres'] == 0 and b['img_shape'] == (H, W)


def test_lowres_from_skeleton_box(videos):
    decode = MultiModalDecode(video_backend='pyav', lowres_min_box=100)
    # a 250 px wide skeleton keeps 125 px at half size: decoded at 1/2
    out = decode(_results(videos['MJPG'], [3, 7], kp_span=250))
    assert out['rgb_lowres'] == 1
    assert out['img_shape'] == (H // 2, W // 2)
    assert out['rgb_imgs'][0].shape == (H // 2, W // 2, 3)
    # keypoints follow the decoded size
    assert np.isclose(out['keypoint'][0, 0, -1, 0], (10 + 250) / 2)
    # and the picture is the full-size one at half size: JPEG's DCT scaling
    # against an area resize differs by < 1 grey level of luma on average
    # (0.8 here; the chroma of this random-colour texture, stored at half
    # resolution, by ~11 in R and B -- the worst case, not natural video)
    full = MultiModalDecode()(_results(videos['MJPG'], [3]))['rgb_imgs'][0]
    half = cv2.resize(full, (W // 2, H // 2), interpolation=cv2.INTER_AREA)

    def luma(img):
        return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(int)

    diff = np.abs(luma(out['rgb_imgs'][0]) - luma(half)).mean()
    assert diff < 1.5, diff
    # the box is taken before the pose modality slices the keypoints
    res = _results(videos['MJPG'], [3, 7], kp_span=250)
    res['modalities'] = ['pose', 'rgb']
    out = decode(res)
    assert out['rgb_lowres'] == 1 and out['keypoint'].shape[1] == 2
    # a 150 px skeleton would lose pixels at half size: full size
    out = decode(_results(videos['MJPG'], [3], kp_span=150))
    assert out['rgb_lowres'] == 0 and out['img_shape'] == (H, W)
    # no joint at all: full size
    res = _results(videos['MJPG'], [3], kp_span=250)
    res['keypoint_score'][:] = 0
    assert decode(res)['rgb_lowres'] == 0


def test_pyav_errors_name_sample_and_file(videos, tmp_path):
    decode = MultiModalDecode(video_backend='pyav')
    res = _results(videos['XVID'], [1])
    res['total_frames'] = FRAMES + 10  # the annotation claims more frames
    with pytest.raises(IOError, match=r'S001C001P001R001A001.*XVID\.avi '
                       r'has 40 decodable frames but the annotation says 50'):
        decode(res)
    bad = tmp_path / 'garbage.avi'
    bad.write_bytes(b'not a video' * 100)
    with pytest.raises(IOError, match=r'S001C001P001R001A001.*garbage\.avi'):
        decode(_results(str(bad), [1]))
    with pytest.raises(ValueError, match='lowres_min_box needs'):
        MultiModalDecode(lowres_min_box=224)
    with pytest.raises(ValueError, match='video_backend'):
        MultiModalDecode(video_backend='opencv')
