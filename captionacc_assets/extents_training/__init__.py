"""Training of the caption frame extents pair model (`captionacc train-extents`)."""
