"""statsvc: visit statistics with an embeddable counter widget."""

__version__ = "0.1.0"
