"""Building blocks of the synthetic NTU-layout dataset.

``body``     the 25-joint stick person and its kinematics;
``motions``  actors, posing on the floor, the depth-twin solver;
``actions``  the action classes, their held objects, :func:`perform`;
``render``   cameras, the room, the z-buffered renderer.

The dataset generator and its command line live in
:mod:`data_prep.synthetic_ntu`.
"""
from .actions import ACTION_CLASSES, CLASSES

__all__ = ['ACTION_CLASSES', 'CLASSES']
