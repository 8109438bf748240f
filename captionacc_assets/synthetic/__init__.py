"""Deterministic test videos with burned-in captions and their ground-truth SRT.

The pipeline is judged against videos whose captions we know exactly: a `VideoSpec`
(size, fps, background, cues, caption style, distractors, seed) renders the same
pixels every time, and the truth SRT is written from the same cues. Used by
`captionacc demo`, the end-to-end test and the accuracy benchmark.
"""
