"""The main job's report: each section runs the library on real and simulated data."""
