"""Figures (matplotlib): ECG traces and HRV, alignment, fusion and training curves."""
