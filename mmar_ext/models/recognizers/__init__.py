from .multimodal_recognizer import MultiModalRecognizer

__all__ = ['MultiModalRecognizer']
