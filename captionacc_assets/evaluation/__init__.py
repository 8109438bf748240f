"""Accuracy evaluation: how close the pipeline's timed captions come to the truth.

`scorer` compares two caption lists (one-to-one matching by time overlap, then recall,
precision, character error rate and timing errors); `eval_set` defines a deterministic
benchmark of synthetic videos spanning fonts, languages, styles, backgrounds and timing
cases; `runner` generates that set, runs the real pipeline on each video and reports
(`captionacc eval`, options in `options`); `report` renders a saved report as Markdown.
"""
