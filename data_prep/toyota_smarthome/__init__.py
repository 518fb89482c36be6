"""Toyota Smarthome (trimmed): the annotation pkls of its CS and CV protocols.

``python -m data_prep.toyota_smarthome.build_annotations --help``
"""
