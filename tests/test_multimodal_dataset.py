"""MultiModalActionDataset and the full data path.

dataset -> pipeline (sampling, decoding, jet, per-modality augmentation,
packing) -> pseudo_collate -> MMAction2's MultiModalDataPreprocessor.

The helpers at the top build a tiny raw dataset in the NTU layout of
docs/data_format.md (MJPG .avi for RGB/IR, 16-bit PNG folders for depth)
and its annotation pkl; test_transforms.py and test_bad_input.py reuse them.
"""
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest

import mmar_ext  # noqa: F401  (compat fixes + registration, before mmaction)
from mmaction.registry import DATASETS, MODELS, TRANSFORMS  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

# configs use default_scope='mmaction'; the dataset's Compose needs it
init_default_scope('mmaction')

RGB_HW = (36, 64)
DEPTH_HW = (32, 40)


def rgb_value(t):
    """Grey level written into RGB frame ``t`` (decoded values are ~this)."""
    return 10 * t + 20


def ir_value(t):
    return 200 - 8 * t


def depth_value(t):
    return 1000 + 50 * t


def write_video(path, values, hw, grey=False):
    """MJPG .avi whose frame ``t`` is uniformly ``values[t]``."""
    h, w = hw
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 30,
                             (w, h), True)
    assert writer.isOpened(), path
    for v in values:
        frame = np.full((h, w, 3), v, np.uint8)
        if not grey:
            frame[:, : w // 4] = 0  # a dark band so frames are not constant
        writer.write(frame)
    writer.release()


def write_depth(folder, values, hw):
    """``MDepth-%08d.png`` (1-based) uint16 frames: ramp + ``values[t]``."""
    import os
    os.makedirs(folder, exist_ok=True)
    h, w = hw
    ramp = np.arange(w, dtype=np.uint16)[None].repeat(h, 0)
    for t, v in enumerate(values):
        img = (ramp + v).astype(np.uint16)
        img[: h // 4] = 0  # masked background
        assert cv2.imwrite(osp.join(folder, f'MDepth-{t + 1:08d}.png'), img)


def sample_name(i, action=1):
    return f'S001C001P{i + 1:03d}R001A{action:03d}'


def make_raw(root, num_samples=3, total=12, num_frames=None, labels=None,
             modalities=('rgb', 'depth', 'ir'), with_pose=True,
             relative=True):
    """Write a tiny raw dataset under ``root`` and return its annotations."""
    import os
    num_frames = dict(num_frames or {})
    annos = []
    for i in range(num_samples):
        name = sample_name(i, action=i + 1)
        ann = dict(frame_dir=name, label=(labels or list(range(
            num_samples)))[i], total_frames=total, img_shape=RGB_HW,
            original_shape=RGB_HW, num_frames={}, modality_shapes={})
        if 'rgb' in modalities:
            n = num_frames.get('rgb', total)
            rel = f'nturgb+d_rgb/{name}_rgb.avi'
            os.makedirs(osp.join(root, 'nturgb+d_rgb'), exist_ok=True)
            write_video(osp.join(root, rel), [rgb_value(t) for t in range(n)],
                        RGB_HW)
            ann['rgb_path'] = rel
            ann['num_frames']['rgb'] = n
            ann['modality_shapes']['rgb'] = RGB_HW
        if 'depth' in modalities:
            n = num_frames.get('depth', total)
            rel = f'nturgb+d_depth_masked/{name}'
            write_depth(osp.join(root, rel),
                        [depth_value(t) for t in range(n)], DEPTH_HW)
            ann['depth_path'] = rel
            ann['num_frames']['depth'] = n
            ann['modality_shapes']['depth'] = DEPTH_HW
        if 'ir' in modalities:
            n = num_frames.get('ir', total)
            rel = f'nturgb+d_ir/{name}_ir.avi'
            os.makedirs(osp.join(root, 'nturgb+d_ir'), exist_ok=True)
            write_video(osp.join(root, rel), [ir_value(t) for t in range(n)],
                        DEPTH_HW, grey=True)
            ann['ir_path'] = rel
            ann['num_frames']['ir'] = n
            ann['modality_shapes']['ir'] = DEPTH_HW
        if with_pose:
            kp = np.zeros((1, total, 17, 2), np.float32)
            kp[..., 0] = np.arange(total)[None, :, None] + 10  # x = 10 + t
            kp[..., 1] = 5
            ann['keypoint'] = kp
            ann['keypoint_score'] = np.ones((1, total, 17), np.float32)
            ann['keypoint_3d'] = np.zeros((1, total, 25, 3), np.float32)
        if not relative:
            for m in ('rgb', 'depth', 'ir'):
                if f'{m}_path' in ann:
                    ann[f'{m}_path'] = osp.join(root, ann[f'{m}_path'])
        annos.append(ann)
    return annos


def write_ann(path, annos, raw_root=None, split=None):
    names = [a['frame_dir'] for a in annos]
    split = split or dict(xsub_train=names[:-1], xsub_val=names[-1:])
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annos,
                         meta=dict(dataset='tiny', raw_root=raw_root,
                                   modalities=['rgb', 'depth', 'ir'],
                                   keypoint_source='ntu_color')), f)
    return str(path)


@pytest.fixture
def tiny(tmp_path):
    """(ann_file, raw_root) of a 3-sample dataset with 20-frame videos."""
    root = str(tmp_path / 'raw')
    annos = make_raw(root, total=20)
    return write_ann(tmp_path / 'ann.pkl', annos), root


MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def train_pipeline(clip_len=16, modalities=('rgb', 'depth')):
    """ActionMAE §2.2/§4.1 training pipeline ("shifted center crop")."""
    return [
        dict(type='MultiModalSampleFrames', clip_len=clip_len),
        dict(type='MultiModalDecode'),
        dict(type='DepthToJet', modalities=('depth', 'ir')),
        dict(type='ModalityTransforms', modalities=modalities,
             transforms=[
                 dict(type='Resize', scale=(-1, 269)),
                 dict(type='CenterCrop', crop_size=269),
                 dict(type='RandomCrop', size=224),
                 dict(type='Flip', flip_ratio=0.5),
             ]),
        dict(type='ModalityTransforms', modalities=('rgb', ),
             transforms=[dict(type='ColorJitter')]),
        dict(type='ModalityTransforms', modalities=modalities,
             transforms=[dict(type='FormatShape', input_format='NCTHW')]),
        dict(type='PackActionInputs',
             collect_keys=tuple(f'{m}_imgs' for m in modalities)),
    ]


def test_data_infos(tiny):
    ann_file, root = tiny
    ds = DATASETS.build(dict(type='MultiModalActionDataset', ann_file=ann_file,
                             split='xsub_train', data_root=root,
                             modalities=('rgb', 'depth', 'ir', 'pose'),
                             num_classes=3, pipeline=[]))
    assert len(ds) == 2
    info = ds.get_data_info(1)
    assert info['frame_dir'] == sample_name(1, 2)
    assert info['label'] == 1 and info['total_frames'] == 20
    assert info['modalities'] == ['rgb', 'depth', 'ir', 'pose']
    for m in ('rgb', 'depth', 'ir'):
        assert osp.isabs(info[f'{m}_path']) and osp.exists(info[f'{m}_path'])
        assert info[f'{m}_path'].startswith(osp.abspath(root))
    assert info['num_frames'] == dict(rgb=20, depth=20, ir=20, pose=20)
    assert info['img_shape'] == RGB_HW
    assert info['modality_shapes']['depth'] == DEPTH_HW
    assert info['keypoint'].shape == (1, 20, 17, 2)
    assert 'keypoint_3d' in info

    # split=None -> everything; data_root=None -> meta['raw_root']
    annos = make_raw(root, total=20)
    ann2 = write_ann(osp.join(osp.dirname(ann_file), 'ann2.pkl'), annos,
                     raw_root=root)
    ds = DATASETS.build(dict(type='MultiModalActionDataset', ann_file=ann2,
                             pipeline=[]))
    assert len(ds) == 3
    assert ds.get_data_info(0)['depth_path'] == osp.join(
        osp.abspath(root), 'nturgb+d_depth_masked', sample_name(0, 1))


def test_lazy_init_and_unknown_split(tiny):
    ann_file, root = tiny
    ds = DATASETS.build(dict(type='MultiModalActionDataset', ann_file=ann_file,
                             split='xsub_val', data_root=root, pipeline=[],
                             lazy_init=True))
    assert not ds._fully_initialized
    assert len(ds) == 1  # triggers full_init
    with pytest.raises(KeyError, match='xview_train'):
        DATASETS.build(dict(type='MultiModalActionDataset',
                            ann_file=ann_file, split='xview_train',
                            data_root=root, pipeline=[]))
    with pytest.raises(ValueError, match='modalities'):
        DATASETS.build(dict(type='MultiModalActionDataset',
                            ann_file=ann_file, modalities=('rgb', 'flow'),
                            data_root=root, pipeline=[]))


def test_train_pipeline_to_preprocessor(tiny):
    from mmengine.dataset import pseudo_collate
    ann_file, root = tiny
    ds = DATASETS.build(dict(type='MultiModalActionDataset', ann_file=ann_file,
                             split='xsub_train', data_root=root,
                             num_classes=3, pipeline=train_pipeline()))
    np.random.seed(0)
    packed = [ds[0], ds[1]]
    inputs = packed[0]['inputs']
    assert set(inputs) == {'rgb_imgs', 'depth_imgs'}
    for k in inputs:
        assert tuple(inputs[k].shape) == (1, 3, 16, 224, 224)
    assert packed[1]['data_samples'].gt_label.item() == 1

    batch = pseudo_collate(packed)
    pre = MODELS.build(dict(
        type='MultiModalDataPreprocessor',
        preprocessors=dict(
            rgb_imgs=dict(type='ActionDataPreprocessor', mean=MEAN, std=STD,
                          format_shape='NCTHW'),
            depth_imgs=dict(type='ActionDataPreprocessor', mean=MEAN,
                            std=STD, format_shape='NCTHW'))))
    out = pre(batch, training=True)
    for k in ('rgb_imgs', 'depth_imgs'):
        x = out['inputs'][k]
        assert tuple(x.shape) == (2, 1, 3, 16, 224, 224)
        assert x.dtype.is_floating_point
        raw = batch['inputs'][k][0].float()
        mean = raw.new_tensor(MEAN).view(3, 1, 1, 1)
        std = raw.new_tensor(STD).view(3, 1, 1, 1)
        assert np.allclose(x[0].numpy(), ((raw - mean) / std).numpy(),
                           atol=1e-4)
    assert [s.gt_label.item() for s in out['data_samples']] == [0, 1]


def test_multiclip_test_pipeline(tiny):
    ann_file, root = tiny
    pipeline = [
        dict(type='MultiModalSampleFrames', clip_len=8, num_clips=2,
             test_mode=True),
        dict(type='MultiModalDecode'),
        dict(type='DepthToJet'),
        dict(type='ModalityTransforms', modalities=('rgb', 'depth', 'ir'),
             transforms=[
                 dict(type='Resize', scale=(-1, 40)),
                 dict(type='CenterCrop', crop_size=32),
                 dict(type='FormatShape', input_format='NCTHW'),
             ]),
        dict(type='PackActionInputs',
             collect_keys=('rgb_imgs', 'depth_imgs', 'ir_imgs')),
    ]
    ds = DATASETS.build(dict(type='MultiModalActionDataset', ann_file=ann_file,
                             split='xsub_val', data_root=root, test_mode=True,
                             modalities=('rgb', 'depth', 'ir'),
                             pipeline=pipeline))
    a, b = ds[0], ds[0]
    for k in ('rgb_imgs', 'depth_imgs', 'ir_imgs'):
        assert tuple(a['inputs'][k].shape) == (2, 3, 8, 32, 32)
        assert (a['inputs'][k] == b['inputs'][k]).all()  # deterministic
    assert a['data_samples'].gt_label.item() == 2


def test_per_modality_clip_len_through_pipeline(tiny):
    """EPAM-Net style: 12 depth frames, RGB = every 3rd of them (4)."""
    ann_file, root = tiny
    pipeline = [
        dict(type='MultiModalSampleFrames',
             modality_clip_len=dict(depth=12, rgb=4), test_mode=True),
        dict(type='MultiModalDecode'),
        dict(type='DepthToJet'),
        dict(type='ModalityTransforms', modalities=('rgb', 'depth'),
             transforms=[dict(type='Resize', scale=(24, 24),
                              keep_ratio=False),
                         dict(type='FormatShape', input_format='NCTHW')]),
        dict(type='PackActionInputs', collect_keys=('rgb_imgs',
                                                    'depth_imgs')),
    ]
    ds = DATASETS.build(dict(type='MultiModalActionDataset', ann_file=ann_file,
                             data_root=root, pipeline=pipeline))
    out = ds[0]
    assert tuple(out['inputs']['rgb_imgs'].shape) == (1, 3, 4, 24, 24)
    assert tuple(out['inputs']['depth_imgs'].shape) == (1, 3, 12, 24, 24)
