"""Data preparation: NTU RGB+D converters, pose extraction, synthetic data.

Run the scripts as modules from the repository root, e.g.
``python -m data_prep.ntu.build_annotations --help``.
"""
# cv2 must be imported before decord, or OpenCV cannot read PNG files
# (see mmar_ext.compat.cv2_before_decord); every data_prep module imports
# this package first.
import cv2  # noqa: F401
