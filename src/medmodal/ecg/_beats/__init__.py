"""Private helpers of :mod:`medmodal.ecg.beat_classes`: feature pieces and the numpy
network that evaluates the shipped weights."""
