from .modality_encoders import ModalityEncoders
from .space_time_encoder import SpaceTimeEncoder
from .x_shiftnet import XShiftBlock, XShiftNet, temporal_shift

__all__ = [
    'ModalityEncoders', 'SpaceTimeEncoder', 'XShiftBlock', 'XShiftNet',
    'temporal_shift'
]
