"""Evaluation metrics: QRS detection (beat by beat), and later classification, calibration
and retrieval metrics. Import the sub-modules (``medmodal.metrics.qrs``) directly."""
