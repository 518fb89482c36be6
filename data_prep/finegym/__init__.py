"""FineGYM (Gym99) converter: ``python -m data_prep.finegym.build_annotations``.

It reads the user's YouTube videos and the FineGYM annotation files and
writes the annotation pkl of ``docs/data_format.md``, one sample per element
(sub-action) of the Gym99 lists, stored as a frame range of its video (or,
with ``--trim-dir``, cut into clips of its own).
"""
