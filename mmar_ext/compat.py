"""Placeholder replaced below."""

def apply():
    return None
