"""Datasets, dataset preparation, downloads and image I/O."""
