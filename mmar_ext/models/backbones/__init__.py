from .modality_encoders import ModalityEncoders
from .resnet2plus1d_maps import ResNet2Plus1dMaps
from .space_time_encoder import SpaceTimeEncoder
from .x_shiftnet import XShiftBlock, XShiftNet, temporal_shift

__all__ = [
    'ModalityEncoders', 'ResNet2Plus1dMaps', 'SpaceTimeEncoder', 'XShiftBlock', 'XShiftNet',
    'temporal_shift'
]
