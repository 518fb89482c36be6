"""Draw what the pose-derived transforms make of one sample.

    python tools/analysis/visualize_pose_transforms.py --out-dir vis/pose \\
        [--ann-file data/ntu60_annotations.pkl --data-root data/ntu_raw \\
         --sample S001C001P001R001A001] [--flip] [--limbs]

Without ``--ann-file`` a small two-person stick-figure clip is generated,
so the script runs anywhere. The sample goes through EPAM-Net's pipeline
(48 pose frames, RGB every 3rd: ``MultiModalSampleFrames`` ->
``MultiModalDecode`` -> ``SkeletonBoxCrop`` -> RGB ``Resize`` 224x224 (and
``Flip``) -> ``PoseHeatmapVolume`` 56x56 -> ``JointHeatmaps``) and TSMF's
ROI mosaic (``SkeletonROIMosaic`` on the uncropped frames). Written PNGs:

* ``1_keypoints_box.png`` -- RGB frames with the keypoints and the
  skeleton box;
* ``2_crop_heatmap.png`` -- per frame: the cropped 224x224 RGB, the 56x56
  heatmaps summed over joints (upsampled), and both overlaid;
* ``3_heatmap_volume.png`` -- all pose frames' summed heatmaps;
* ``4_roi_mosaic.png`` -- the ROI mosaic with its cell grid (rows: head,
  right hand, left hand, right foot, left foot; columns: frames);
* ``5_joint_heatmaps.png`` -- the tokenizer's joint heatmaps (summed) over
  the first cropped RGB frame.
"""
import argparse
import os
import os.path as osp
import pickle
import sys

import cv2
import numpy as np

COCO_LIMBS = ((0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6),
              (6, 8), (8, 10), (5, 11), (11, 13), (13, 15), (6, 12), (12, 14),
              (14, 16), (11, 12), (5, 6))
COCO_LEFT = (1, 3, 5, 7, 9, 11, 13, 15)
COCO_RIGHT = (2, 4, 6, 8, 10, 12, 14, 16)
#: A standing COCO-17 body, unit height, origin between the feet.
BODY = np.array([[0, -.93], [-.02, -.95], [.02, -.95], [-.05, -.93],
                 [.05, -.93], [-.12, -.8], [.12, -.8], [-.16, -.6], [.16, -.6],
                 [-.18, -.42], [.18, -.42], [-.08, -.45], [.08, -.45],
                 [-.09, -.22], [.09, -.22], [-.09, 0], [.09, 0]])


# ------------------------------------------------------------ fake sample
def fake_sample(total=64, hw=(270, 480), seed=0):
    """Two stick figures (one waving its right arm) on a textured room."""
    rng = np.random.default_rng(seed)
    h, w = hw
    yy, xx = np.mgrid[:h, :w]
    room = np.stack([
        60 + 40 * np.sin(xx / 23.), 70 + 30 * np.cos(yy / 17.),
        90 + 20 * np.sin((xx + yy) / 31.)
    ], -1)
    room = (room + rng.normal(0, 6, room.shape)).clip(0, 255).astype(np.uint8)
    t = np.arange(total)
    kp = np.zeros((2, total, 17, 2), np.float32)
    for p, (foot_x, height) in enumerate(((200., 170.), (300., 150.))):
        kp[p, :, :, 0] = (BODY[:, 0] * height)[None] + foot_x + \
            10 * np.sin(t / 20. + p)[:, None]
        kp[p, :, :, 1] = (BODY[:, 1] * height)[None] + 235.
    wave = np.sin(t / 4.)  # person 0 waves: right elbow up, wrist swinging
    kp[0, :, 8] = kp[0, :, 6] + np.stack([25 + 0 * t, -20 + 0 * t], -1)
    kp[0, :, 10] = kp[0, :, 8] + np.stack([20 * wave, -35 + 0 * t], -1)
    score = np.ones((2, total, 17), np.float32)
    score[1, :10] = 0  # the second person enters after 10 frames
    frames = []
    for f in range(total):
        img = room.copy()
        for p in range(2):
            if score[p, f].max() == 0:
                continue
            colour = ((220, 180, 60), (80, 200, 230))[p]
            pts = kp[p, f].round().astype(int)
            for a, b in COCO_LIMBS:
                cv2.line(img, tuple(pts[a]), tuple(pts[b]), colour, 6,
                         cv2.LINE_AA)
            cv2.circle(img, tuple(pts[0]), 12, colour, -1, cv2.LINE_AA)
        frames.append(img)
    return dict(
        frame_dir='fake_two_person',
        total_frames=total,
        img_shape=hw,
        original_shape=hw,
        keypoint=kp,
        keypoint_score=score), frames


def load_sample(args):
    """(results after sampling and decoding, all decoded RGB frames)."""
    import mmar_ext  # noqa: F401  (compat fixes + registration)
    from mmaction.registry import TRANSFORMS
    sampler = TRANSFORMS.build(
        dict(
            type='MultiModalSampleFrames',
            test_mode=True,
            modality_clip_len=dict(pose=48, rgb=16)))
    if args.ann_file is None:
        results, video = fake_sample(seed=args.seed)
        results = sampler(results)
        results.update(
            modalities=['rgb', 'pose'],
            keypoint=results['keypoint'][:, results['pose_inds']],
            keypoint_score=results['keypoint_score'][:, results['pose_inds']],
            rgb_imgs=[video[i] for i in results['rgb_inds']],
            rgb_img_shape=results['img_shape'])
        return results
    with open(args.ann_file, 'rb') as f:
        data = pickle.load(f)
    annos = data['annotations'] if isinstance(data, dict) else data
    if args.sample is None:
        ann = annos[0]
    else:
        found = [a for a in annos if a['frame_dir'] == args.sample]
        if not found:
            sys.exit(f'sample {args.sample} not in {args.ann_file}')
        ann = found[0]
    root = args.data_root or (data.get('meta', {}).get('raw_root')
                              if isinstance(data, dict) else None) or ''
    results = dict(ann, modalities=['rgb', 'pose'])
    results['rgb_path'] = osp.join(root, ann['rgb_path'])
    results['img_shape'] = tuple(ann['img_shape'])
    results = sampler(results)
    return TRANSFORMS.build(dict(type='MultiModalDecode'))(results)


# ---------------------------------------------------------------- drawing
def draw_pose(img, kp, score, colour=(255, 255, 0), radius=3):
    img = np.ascontiguousarray(img).copy()
    for p in range(kp.shape[0]):
        pts = np.round(kp[p]).astype(int)
        ok = score[p] > 0
        for a, b in COCO_LIMBS:
            if ok[a] and ok[b]:
                cv2.line(img, tuple(pts[a]), tuple(pts[b]), colour, 1,
                         cv2.LINE_AA)
        for j in np.flatnonzero(ok):
            side = (255, 64,
                    64) if j in COCO_LEFT else ((64, 255,
                                                 64) if j in COCO_RIGHT else
                                                (255, 255, 255))
            cv2.circle(img, tuple(pts[j]), radius, side, -1, cv2.LINE_AA)
    return img


def jet(maps, size=None):
    """float maps -> RGB uint8 (matplotlib-free jet via OpenCV)."""
    m = maps / max(float(maps.max()), 1e-6)
    img = cv2.applyColorMap((m * 255).astype(np.uint8), cv2.COLORMAP_JET)
    img = img[..., ::-1]
    if size is not None:
        img = cv2.resize(img, size, interpolation=cv2.INTER_NEAREST)
    return img


def grid(images, cols, pad=4):
    h = max(i.shape[0] for i in images)
    w = max(i.shape[1] for i in images)
    rows = -(-len(images) // cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255,
                  np.uint8)
    for k, img in enumerate(images):
        r, c = divmod(k, cols)
        img = img if img.ndim == 3 else np.repeat(img[..., None], 3, -1)
        out[pad + r * (h + pad):pad + r * (h + pad) + img.shape[0],
            pad + c * (w + pad):pad + c * (w + pad) + img.shape[1]] = img
    return out


def save(path, rgb):
    cv2.imwrite(path, np.ascontiguousarray(rgb[..., ::-1]))
    print('wrote', path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--ann-file', help='annotation pkl (optional)')
    parser.add_argument(
        '--data-root',
        help='raw root of the *_path keys '
        "(default: the pkl's meta['raw_root'])")
    parser.add_argument('--sample', help='frame_dir (default: the first)')
    parser.add_argument('--out-dir', default='work_dirs/pose_vis')
    parser.add_argument(
        '--flip', action='store_true', help='apply the shared horizontal flip')
    parser.add_argument(
        '--limbs',
        action='store_true',
        help='limb heatmaps instead of joint heatmaps')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)

    results = load_sample(args)
    import mmar_ext.datasets.transforms.pose  # noqa: F401  (registers)
    from mmaction.registry import TRANSFORMS
    os.makedirs(args.out_dir, exist_ok=True)
    name = results['frame_dir']
    rgb_pos = np.arange(len(results['rgb_imgs'])) * (
        results['keypoint'].shape[1] // len(results['rgb_imgs']))
    raw_rgb = list(results['rgb_imgs'])
    raw_kp = results['keypoint'].copy()
    raw_score = results['keypoint_score'].copy()

    mosaic = TRANSFORMS.build(dict(type='SkeletonROIMosaic', test_mode=True))(
        dict(results))
    pipeline = [
        dict(type='SkeletonBoxCrop'),
        dict(
            type='ModalityTransforms',
            keypoint_modality='rgb',
            modalities=('rgb', ),
            transforms=[
                dict(type='Resize', scale=(224, 224), keep_ratio=False)
            ] + ([
                dict(
                    type='Flip',
                    flip_ratio=1.,
                    left_kp=COCO_LEFT,
                    right_kp=COCO_RIGHT)
            ] if args.flip else [])),
        dict(
            type='PoseHeatmapVolume',
            scaling=0.25,
            out_key='pose_imgs',
            with_kp=not args.limbs,
            with_limb=args.limbs),
        dict(
            type='JointHeatmaps',
            feat_stride=2,
            sigma=1.5,
            match_modality='rgb'),
    ]
    for cfg in pipeline:
        results = TRANSFORMS.build(cfg)(results)

    x1, y1, x2, y2 = results['skeleton_box']
    shown = [0, 5, 10, 15][:len(raw_rgb)]
    panels = []
    for j in shown:
        img = draw_pose(raw_rgb[j], raw_kp[:, rgb_pos[j]],
                        raw_score[:, rgb_pos[j]])
        cv2.rectangle(img, (int(x1), int(y1)), (int(x2) - 1, int(y2) - 1),
                      (255, 0, 255), 2)
        panels.append(img)
    save(osp.join(args.out_dir, '1_keypoints_box.png'), grid(panels, 2))

    heat = results['pose_imgs'].sum(1)  # [48, 56, 56]
    rows = []
    for j in shown:
        rgb = results['rgb_imgs'][j]
        hm = jet(heat[rgb_pos[j]], (224, 224))
        over = (0.55 * rgb + 0.45 * hm).astype(np.uint8)
        over = draw_pose(
            over,
            results['keypoint'][:, rgb_pos[j]],
            results['keypoint_score'][:, rgb_pos[j]],
            radius=2)
        rows += [rgb, hm, over]
    save(osp.join(args.out_dir, '2_crop_heatmap.png'), grid(rows, 3))
    save(
        osp.join(args.out_dir, '3_heatmap_volume.png'),
        grid([jet(h, (112, 112)) for h in heat], 8))

    roi = mosaic['roi_imgs'][0].copy()
    roi = cv2.resize(roi, (450, 450), interpolation=cv2.INTER_NEAREST)
    for bx1, by1, bx2, by2 in mosaic['roi_cells']['boxes'].reshape(-1, 4):
        cv2.rectangle(roi, (int(bx1 * 2), int(by1 * 2)),
                      (int(bx2 * 2) - 1, int(by2 * 2) - 1), (255, 255, 255), 1)
    save(osp.join(args.out_dir, '4_roi_mosaic.png'), roi)

    jh = results['joint_heatmaps'][0].sum(0)
    over = (0.5 * results['rgb_imgs'][0] + 0.5 * jet(jh, (224, 224))).astype(
        np.uint8)
    save(osp.join(args.out_dir, '5_joint_heatmaps.png'), over)
    print(f'sample {name}: skeleton box {results["skeleton_box"].tolist()}'
          f' (fallback: {results["skeleton_box_fallback"]}), ROI persons: '
          f'{mosaic["roi_cells"]["num_persons"]}')


if __name__ == '__main__':
    main()
