"""Imports every module that registers networks (one line per module)."""
