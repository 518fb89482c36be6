from .modality_encoders import ModalityEncoders
from .space_time_encoder import SpaceTimeEncoder

__all__ = ['ModalityEncoders', 'SpaceTimeEncoder']
