"""The data sets above the signal layer: MIT-BIH, PTB-XL, QT database, MedPix, synthetic sets."""
