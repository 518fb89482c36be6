"""PKU-MMD phase 1: ``python -m data_prep.pku_mmd.build_annotations``
writes the annotation pkl (one sample per labelled action instance, stored as
a frame range of its long recording)."""
