from .multimodal_recognizer import MultiModalRecognizer
from .tsmf import TSMFRecognizer

__all__ = ['MultiModalRecognizer', 'TSMFRecognizer']
