"""ECG delineation methods (private; use :mod:`medmodal.ecg.delineate`)."""
