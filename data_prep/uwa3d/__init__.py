"""UWA3D Multiview Activity II: the annotation converter
(``python -m data_prep.uwa3d.build_annotations``)."""
