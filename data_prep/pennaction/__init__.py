"""PennAction: ``python -m data_prep.pennaction.build_annotations``."""
