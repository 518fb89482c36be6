"""Tests of data_prep.ntu.skeleton: parsing, writing, errors, bodies."""
import numpy as np
import pytest

from data_prep.ntu.skeleton import (SkeletonBody, SkeletonFormatError,
                                    SkeletonSequence, format_skeleton,
                                    parse_skeleton_text, read_skeleton,
                                    select_bodies, to_arrays, write_skeleton)

# Three frames: frame 1 has body ...101, frame 2 has no body, frame 3 has
# bodies ...101 and ...102. Joint values follow a pattern so that every field
# can be checked: block b (1: body 101 in frame 1, 2: body 101 in frame 3,
# 3: body 102 in frame 3), joint j (1..25) and field k (1..11) hold
# b * 100 + j + k / 100; the joint trackingState is (j + b) % 3.
# Line numbers: 1 frame count, 2 body count, 3 body line, 4 joint count,
# 5-29 joints, 30 (frame 2) body count 0, 31 (frame 3) body count 2,
# 32 body line, 33 joint count, 34-58 joints, 59 body line, 60 joint count,
# 61-85 joints.
SKELETON_TEXT = """\
3
1
72057594037931101 0 1 1 0 0 0 -0.0276 5.745083e-02 2
25
101.01 101.02 101.03 101.04 101.05 101.06 101.07 101.08 101.09 101.10 101.11 2
102.01 102.02 102.03 102.04 102.05 102.06 102.07 102.08 102.09 102.10 102.11 0
103.01 103.02 103.03 103.04 103.05 103.06 103.07 103.08 103.09 103.10 103.11 1
104.01 104.02 104.03 104.04 104.05 104.06 104.07 104.08 104.09 104.10 104.11 2
105.01 105.02 105.03 105.04 105.05 105.06 105.07 105.08 105.09 105.10 105.11 0
106.01 106.02 106.03 106.04 106.05 106.06 106.07 106.08 106.09 106.10 106.11 1
107.01 107.02 107.03 107.04 107.05 107.06 107.07 107.08 107.09 107.10 107.11 2
108.01 108.02 108.03 108.04 108.05 108.06 108.07 108.08 108.09 108.10 108.11 0
109.01 109.02 109.03 109.04 109.05 109.06 109.07 109.08 109.09 109.10 109.11 1
110.01 110.02 110.03 110.04 110.05 110.06 110.07 110.08 110.09 110.10 110.11 2
111.01 111.02 111.03 111.04 111.05 111.06 111.07 111.08 111.09 111.10 111.11 0
112.01 112.02 112.03 112.04 112.05 112.06 112.07 112.08 112.09 112.10 112.11 1
113.01 113.02 113.03 113.04 113.05 113.06 113.07 113.08 113.09 113.10 113.11 2
114.01 114.02 114.03 114.04 114.05 114.06 114.07 114.08 114.09 114.10 114.11 0
115.01 115.02 115.03 115.04 115.05 115.06 115.07 115.08 115.09 115.10 115.11 1
116.01 116.02 116.03 116.04 116.05 116.06 116.07 116.08 116.09 116.10 116.11 2
117.01 117.02 117.03 117.04 117.05 117.06 117.07 117.08 117.09 117.10 117.11 0
118.01 118.02 118.03 118.04 118.05 118.06 118.07 118.08 118.09 118.10 118.11 1
119.01 119.02 119.03 119.04 119.05 119.06 119.07 119.08 119.09 119.10 119.11 2
120.01 120.02 120.03 120.04 120.05 120.06 120.07 120.08 120.09 120.10 120.11 0
121.01 121.02 121.03 121.04 121.05 121.06 121.07 121.08 121.09 121.10 121.11 1
122.01 122.02 122.03 122.04 122.05 122.06 122.07 122.08 122.09 122.10 122.11 2
123.01 123.02 123.03 123.04 123.05 123.06 123.07 123.08 123.09 123.10 123.11 0
124.01 124.02 124.03 124.04 124.05 124.06 124.07 124.08 124.09 124.10 124.11 1
125.01 125.02 125.03 125.04 125.05 125.06 125.07 125.08 125.09 125.10 125.11 2
0
2
72057594037931101 0 0 2 1 2 0 0.5 -0.25 2
25
201.01 201.02 201.03 201.04 201.05 201.06 201.07 201.08 201.09 201.10 201.11 0
202.01 202.02 202.03 202.04 202.05 202.06 202.07 202.08 202.09 202.10 202.11 1
203.01 203.02 203.03 203.04 203.05 203.06 203.07 203.08 203.09 203.10 203.11 2
204.01 204.02 204.03 204.04 204.05 204.06 204.07 204.08 204.09 204.10 204.11 0
205.01 205.02 205.03 205.04 205.05 205.06 205.07 205.08 205.09 205.10 205.11 1
206.01 206.02 206.03 206.04 206.05 206.06 206.07 206.08 206.09 206.10 206.11 2
207.01 207.02 207.03 207.04 207.05 207.06 207.07 207.08 207.09 207.10 207.11 0
208.01 208.02 208.03 208.04 208.05 208.06 208.07 208.08 208.09 208.10 208.11 1
209.01 209.02 209.03 209.04 209.05 209.06 209.07 209.08 209.09 209.10 209.11 2
210.01 210.02 210.03 210.04 210.05 210.06 210.07 210.08 210.09 210.10 210.11 0
211.01 211.02 211.03 211.04 211.05 211.06 211.07 211.08 211.09 211.10 211.11 1
212.01 212.02 212.03 212.04 212.05 212.06 212.07 212.08 212.09 212.10 212.11 2
213.01 213.02 213.03 213.04 213.05 213.06 213.07 213.08 213.09 213.10 213.11 0
214.01 214.02 214.03 214.04 214.05 214.06 214.07 214.08 214.09 214.10 214.11 1
215.01 215.02 215.03 215.04 215.05 215.06 215.07 215.08 215.09 215.10 215.11 2
216.01 216.02 216.03 216.04 216.05 216.06 216.07 216.08 216.09 216.10 216.11 0
217.01 217.02 217.03 217.04 217.05 217.06 217.07 217.08 217.09 217.10 217.11 1
218.01 218.02 218.03 218.04 218.05 218.06 218.07 218.08 218.09 218.10 218.11 2
219.01 219.02 219.03 219.04 219.05 219.06 219.07 219.08 219.09 219.10 219.11 0
220.01 220.02 220.03 220.04 220.05 220.06 220.07 220.08 220.09 220.10 220.11 1
221.01 221.02 221.03 221.04 221.05 221.06 221.07 221.08 221.09 221.10 221.11 2
222.01 222.02 222.03 222.04 222.05 222.06 222.07 222.08 222.09 222.10 222.11 0
223.01 223.02 223.03 223.04 223.05 223.06 223.07 223.08 223.09 223.10 223.11 1
224.01 224.02 224.03 224.04 224.05 224.06 224.07 224.08 224.09 224.10 224.11 2
225.01 225.02 225.03 225.04 225.05 225.06 225.07 225.08 225.09 225.10 225.11 0
72057594037931102 8 0 0 0 0 1 0 0 1
25
301.01 301.02 301.03 301.04 301.05 301.06 301.07 301.08 301.09 301.10 301.11 1
302.01 302.02 302.03 302.04 302.05 302.06 302.07 302.08 302.09 302.10 302.11 2
303.01 303.02 303.03 303.04 303.05 303.06 303.07 303.08 303.09 303.10 303.11 0
304.01 304.02 304.03 304.04 304.05 304.06 304.07 304.08 304.09 304.10 304.11 1
305.01 305.02 305.03 305.04 305.05 305.06 305.07 305.08 305.09 305.10 305.11 2
306.01 306.02 306.03 306.04 306.05 306.06 306.07 306.08 306.09 306.10 306.11 0
307.01 307.02 307.03 307.04 307.05 307.06 307.07 307.08 307.09 307.10 307.11 1
308.01 308.02 308.03 308.04 308.05 308.06 308.07 308.08 308.09 308.10 308.11 2
309.01 309.02 309.03 309.04 309.05 309.06 309.07 309.08 309.09 309.10 309.11 0
310.01 310.02 310.03 310.04 310.05 310.06 310.07 310.08 310.09 310.10 310.11 1
311.01 311.02 311.03 311.04 311.05 311.06 311.07 311.08 311.09 311.10 311.11 2
312.01 312.02 312.03 312.04 312.05 312.06 312.07 312.08 312.09 312.10 312.11 0
313.01 313.02 313.03 313.04 313.05 313.06 313.07 313.08 313.09 313.10 313.11 1
314.01 314.02 314.03 314.04 314.05 314.06 314.07 314.08 314.09 314.10 314.11 2
315.01 315.02 315.03 315.04 315.05 315.06 315.07 315.08 315.09 315.10 315.11 0
316.01 316.02 316.03 316.04 316.05 316.06 316.07 316.08 316.09 316.10 316.11 1
317.01 317.02 317.03 317.04 317.05 317.06 317.07 317.08 317.09 317.10 317.11 2
318.01 318.02 318.03 318.04 318.05 318.06 318.07 318.08 318.09 318.10 318.11 0
319.01 319.02 319.03 319.04 319.05 319.06 319.07 319.08 319.09 319.10 319.11 1
320.01 320.02 320.03 320.04 320.05 320.06 320.07 320.08 320.09 320.10 320.11 2
321.01 321.02 321.03 321.04 321.05 321.06 321.07 321.08 321.09 321.10 321.11 0
322.01 322.02 322.03 322.04 322.05 322.06 322.07 322.08 322.09 322.10 322.11 1
323.01 323.02 323.03 323.04 323.05 323.06 323.07 323.08 323.09 323.10 323.11 2
324.01 324.02 324.03 324.04 324.05 324.06 324.07 324.08 324.09 324.10 324.11 0
325.01 325.02 325.03 325.04 325.05 325.06 325.07 325.08 325.09 325.10 325.11 1
"""
BODY_A, BODY_B = '72057594037931101', '72057594037931102'


def expected_joints(block):
    j = np.arange(1, 26)[:, None]
    k = np.arange(1, 12)[None, :]
    return (block * 100 + j + k / 100).astype(np.float32)


def expected_tracking(block):
    return ((np.arange(1, 26) + block) % 3).astype(np.int8)


@pytest.fixture
def skeleton_file(tmp_path):
    path = tmp_path / 'S001C002P003R002A013.skeleton'
    path.write_text(SKELETON_TEXT)
    return path


def test_parse_every_field(skeleton_file):
    seq = read_skeleton(skeleton_file)
    assert seq.num_frames == 3
    assert [body.body_id for body in seq.bodies] == [BODY_A, BODY_B]
    body_a, body_b = seq.bodies

    np.testing.assert_array_equal(body_a.frame_index, [0, 2])
    np.testing.assert_array_equal(body_b.frame_index, [2])
    assert body_a.body_info.dtype == np.float32
    assert body_a.joints.dtype == np.float32
    assert body_a.tracking.dtype == np.int8
    assert body_a.body_info.shape == (2, 9)
    assert body_a.joints.shape == (2, 25, 11)
    assert body_a.tracking.shape == (2, 25)
    assert body_b.joints.shape == (1, 25, 11)

    np.testing.assert_allclose(
        body_a.body_info,
        np.array([[0, 1, 1, 0, 0, 0, -0.0276, 5.745083e-02, 2],
                  [0, 0, 2, 1, 2, 0, 0.5, -0.25, 2]], np.float32))
    np.testing.assert_allclose(
        body_b.body_info, np.array([[8, 0, 0, 0, 0, 1, 0, 0, 1]], np.float32))

    for body, row, block in ((body_a, 0, 1), (body_a, 1, 2), (body_b, 0, 3)):
        np.testing.assert_allclose(body.joints[row], expected_joints(block),
                                   rtol=1e-7)
        np.testing.assert_array_equal(body.tracking[row],
                                      expected_tracking(block))


def test_write_read_round_trip(tmp_path, skeleton_file):
    seq = read_skeleton(skeleton_file)
    out = tmp_path / 'out' / 'copy.skeleton'
    write_skeleton(out, seq)
    again = read_skeleton(out)
    assert again.num_frames == seq.num_frames
    assert len(again.bodies) == len(seq.bodies)
    for a, b in zip(seq.bodies, again.bodies):
        assert a.body_id == b.body_id
        for name in ('frame_index', 'body_info', 'joints', 'tracking'):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    # no temporary file left behind
    assert sorted(p.name for p in out.parent.iterdir()) == ['copy.skeleton']
    # the text keeps NTU's line structure
    assert format_skeleton(again).splitlines()[:4] == \
        SKELETON_TEXT.splitlines()[:2] + [
            BODY_A + ' 0 1 1 0 0 0 -0.0276 0.05745083 2', '25']


def test_round_trip_random_values(tmp_path):
    rng = np.random.default_rng(0)
    n = 4
    magnitude = 10.0 ** rng.integers(-6, 4, size=(n, 25, 11))
    joints = (rng.normal(size=(n, 25, 11)) * magnitude).astype(np.float32)
    body = SkeletonBody('123', np.array([0, 1, 3, 5]),
                        rng.normal(size=(n, 9)).astype(np.float32), joints,
                        rng.integers(0, 3, size=(n, 25)).astype(np.int8))
    path = tmp_path / 'random.skeleton'
    write_skeleton(path, SkeletonSequence(6, [body]))
    again = read_skeleton(path).bodies[0]
    np.testing.assert_allclose(again.joints, joints, rtol=1e-5, atol=0)
    np.testing.assert_allclose(again.body_info, body.body_info, rtol=1e-5)
    np.testing.assert_array_equal(again.frame_index, body.frame_index)


def _replace_line(number, new_text):
    lines = SKELETON_TEXT.splitlines()
    lines[number - 1] = new_text
    return '\n'.join(lines) + '\n'


MALFORMED = {
    'empty file': ('', 1),
    'only blank lines': ('\n  \n', 1),
    'truncated in a joint block': (
        '\n'.join(SKELETON_TEXT.splitlines()[:45]) + '\n', 46),
    'truncated before frame 3': (
        '\n'.join(SKELETON_TEXT.splitlines()[:30]) + '\n', 31),
    'non-numeric joint field': (
        _replace_line(40, SKELETON_TEXT.splitlines()[39].replace(
            '207.03', 'abc')), 40),
    'non-numeric frame count': (_replace_line(1, 'three'), 1),
    'non-numeric body field': (_replace_line(
        3, BODY_A + ' 0 1 1 0 0 0 x 5.745083e-02 2'), 3),
    'wrong joint count': (_replace_line(33, '24'), 33),
    'short joint line': (_replace_line(61, '1 2 3'), 61),
    'bad trackingState': (_replace_line(
        70, SKELETON_TEXT.splitlines()[69].rsplit(' ', 1)[0] + ' 7'), 70),
    'body line with missing fields': (_replace_line(59, BODY_B + ' 0 0'), 59),
    'content after the last frame': (SKELETON_TEXT + '1\n', 86),
}


@pytest.mark.parametrize('case', sorted(MALFORMED))
def test_malformed_files_name_file_and_line(tmp_path, case):
    text, line = MALFORMED[case]
    path = tmp_path / 'bad.skeleton'
    path.write_text(text)
    with pytest.raises(SkeletonFormatError) as info:
        read_skeleton(path)
    assert isinstance(info.value, ValueError)
    assert info.value.path == str(path)
    assert info.value.line_number == line
    assert str(path) in str(info.value)
    assert f'line {line}:' in str(info.value)


def _moving_body(body_id, frames, amplitude):
    n = len(frames)
    joints = np.zeros((n, 25, 11), np.float32)
    joints[:, :, 0] = amplitude * np.arange(n)[:, None]  # x moves
    joints[:, :, 5] = 100 + amplitude * np.arange(n)[:, None]  # colorX
    joints[:, :, 6] = 50.0  # colorY
    joints[:, :, 3:5] = 7.0  # depthX, depthY
    tracking = np.full((n, 25), 2, np.int8)
    return SkeletonBody(body_id, np.asarray(frames),
                        np.zeros((n, 9), np.float32), joints, tracking)


def test_to_arrays_selects_bodies_by_motion():
    static = _moving_body('1', [0, 1, 2, 3], 0.0)
    slow = _moving_body('2', [1, 2], 0.5)
    fast = _moving_body('3', [0, 2, 3], 2.0)
    seq = SkeletonSequence(5, [static, slow, fast])

    assert [b.body_id for b in select_bodies(seq, 2)] == ['3', '2']
    assert [b.body_id for b in select_bodies(seq, 2, 'order')] == ['1', '2']
    assert [b.body_id for b in select_bodies(seq, 5)] == ['3', '2', '1']

    joints3d, color2d, depth2d, tracking = to_arrays(seq, max_bodies=2)
    assert joints3d.shape == (2, 5, 25, 3) and joints3d.dtype == np.float32
    assert color2d.shape == (2, 5, 25, 2) and depth2d.shape == (2, 5, 25, 2)
    assert tracking.shape == (2, 5, 25) and tracking.dtype == np.int8
    # body '3' first: present in frames 0, 2, 3 only
    np.testing.assert_array_equal(tracking[0, :, 0], [2, 0, 2, 2, 0])
    np.testing.assert_allclose(joints3d[0, :, 0, 0], [0, 0, 2, 4, 0])
    np.testing.assert_allclose(
        color2d[0, :, 0], [[100, 50], [0, 0], [102, 50], [104, 50], [0, 0]])
    np.testing.assert_allclose(depth2d[0, [0, 1], 0], [[7, 7], [0, 0]])
    np.testing.assert_array_equal(tracking[1, :, 0], [0, 2, 2, 0, 0])

    ordered = to_arrays(seq, max_bodies=2, select='order')[0]
    np.testing.assert_allclose(ordered[0, :4, 0, 0], 0)  # the static body

    with pytest.raises(ValueError):
        to_arrays(seq, select='largest')


def test_to_arrays_of_parsed_file(skeleton_file):
    joints3d, color2d, depth2d, tracking = to_arrays(
        read_skeleton(skeleton_file))
    assert joints3d.shape == (2, 3, 25, 3)
    # body A moves between its frames, body B appears once (no motion)
    np.testing.assert_allclose(joints3d[0, 0], expected_joints(1)[:, 0:3])
    np.testing.assert_allclose(joints3d[0, 1], 0)
    np.testing.assert_allclose(depth2d[0, 2], expected_joints(2)[:, 3:5])
    np.testing.assert_allclose(color2d[1, 2], expected_joints(3)[:, 5:7])
    np.testing.assert_array_equal(tracking[1, :2], 0)


def test_no_bodies_gives_empty_arrays():
    seq = parse_skeleton_text('2\n0\n0\n')
    assert seq.num_frames == 2 and seq.bodies == []
    joints3d, _, _, tracking = to_arrays(seq)
    assert joints3d.shape == (0, 2, 25, 3) and tracking.shape == (0, 2, 25)


def test_write_rejects_inconsistent_body(tmp_path):
    body = _moving_body('1', [0, 1], 1.0)
    with pytest.raises(ValueError, match='frame_index'):
        write_skeleton(tmp_path / 'x.skeleton', SkeletonSequence(1, [body]))
