"""Reading records and data sets: WFDB/CSV/EDF/NumPy files and the shared data sets."""
