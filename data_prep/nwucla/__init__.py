"""NW-UCLA Multiview Action3D converter (``build_annotations``)."""
