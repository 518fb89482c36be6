"""Pose-derived transforms (issue 3 §2), registered in MMAction2's
``TRANSFORMS``:

* :class:`PoseHeatmapVolume` -- pseudo-heatmap volumes (EPAM-Net §3.2,
  eq. (1)); a vectorised, equivalent ``GeneratePoseTarget``.
* :class:`SkeletonBoxCrop` -- one skeleton box per clip cropping RGB and
  keypoints alike (EPAM-Net §3.3, §4.2).
* :class:`SkeletonROIMosaic` -- skeleton-cropped ROI mosaics (TSMF
  eqs. (5)-(6), Fig. 2).
* :class:`JointHeatmaps` -- per-frame joint heatmaps for a joint tokenizer
  (3D deformable transformer, eqs. (1)-(2)).
"""
from .heatmap import (COCO_SKELETONS, JointHeatmaps, PoseHeatmapVolume,
                      keypoint_frames_of, read_keypoints, render_volume)
from .roi_mosaic import JOINT_LAYOUTS, SkeletonROIMosaic, roi_weight_map
from .skeleton_crop import SkeletonBoxCrop, skeleton_box

__all__ = [
    'PoseHeatmapVolume', 'JointHeatmaps', 'SkeletonBoxCrop',
    'SkeletonROIMosaic', 'render_volume', 'skeleton_box', 'roi_weight_map',
    'read_keypoints', 'keypoint_frames_of', 'COCO_SKELETONS', 'JOINT_LAYOUTS'
]
