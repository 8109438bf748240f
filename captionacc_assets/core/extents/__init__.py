"""Caption frame extents: which consecutive 10 Hz crop pairs show the same caption, a change,
or no caption, and how those pair predictions become caption spans.

`labels` names the five pair labels, `baseline` is the non-learned pair classifier and
`decode` turns pair probabilities into captions and gaps covering the whole timeline.
"""
