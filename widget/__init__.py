"""The embeddable widget's files (package data, served by statsvc)."""
