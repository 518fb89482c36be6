"""Inference helpers (not registered; nothing here changes training).

* :mod:`.fast_inference` -- :func:`convert_x_shiftnet`, a CPU-friendly,
  inference-only form of EPAM-Net's ``XShiftNet`` streams.
"""
