"""Top-down 2D pose extraction (Faster R-CNN person detector + HRNet-w32).

* :mod:`.models`: the packaged configs, default checkpoints, model building;
* :mod:`.video`: decoding videos in batches (:class:`BadVideoError`);
* :mod:`.tracking`: person identities over time;
* :mod:`.extractor`: :class:`PoseExtractor`, batched extraction of a clip;
* :mod:`.reference`: the frame-by-frame way of MMAction2's
  ``ntu_pose_extraction.py`` (for tests and the benchmark);
* :mod:`.runner`: sharded, resumable extraction of a dataset and the merge
  into its annotation pkl;
* :mod:`.progress`: the progress bar.

The command line is ``python -m data_prep.pose_extraction``.
"""
from .extractor import PoseExtractor, PoseResult
from .runner import (ExtractionOptions, ExtractionSummary,
                     PoseExtractionError, merge_results, run_extraction)
from .tracking import PersonTracks, track_persons
from .video import BadVideoError, VideoFrames

__all__ = [
    'PoseExtractor', 'PoseResult', 'ExtractionOptions', 'ExtractionSummary',
    'PoseExtractionError', 'merge_results', 'run_extraction', 'PersonTracks',
    'track_persons', 'BadVideoError', 'VideoFrames'
]
