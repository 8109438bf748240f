"""Score predicted timed captions against the truth: matching, recall/precision, CER, timing.

A predicted cue counts for a true cue only if they overlap in time, and each cue is used
at most once. The pairing maximizes the total overlap (ties broken by text similarity):
a greedy "largest overlap first" pairing can lose a match when one predicted cue
straddles two true cues, which would understate recall. Text is compared after NFKC
normalization (so full-width "，" equals ","), with whitespace collapsed, so a line
break is one space.

Zones: in a video with captions in two places, a cue's zone is read from its ASS override
tags (`{\\an8}` at the start of the text, as the exports and the truth files mark top-zone
cues; `{\\an7}`..`{\\an9}` and the legacy `{\\a5}`..`{\\a7}` are "top", any other
alignment "bottom") or from a WebVTT `line:` setting; the tags are removed from the text. When
the truth has two zones, cues are matched within each zone and the zones pooled; a video whose
truth has one zone is matched as one timeline, whatever its cues' placement.

Pure Python (no dagster, no scipy): the overlap graph of two timelines splits into small
connected components, and each component is solved exactly with a Hungarian assignment.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import srt
import webvtt

__all__ = [
    "ScoredCue",
    "Score",
    "parse_captions",
    "normalize_text",
    "edit_distance",
    "cer",
    "match",
    "score",
    "combine",
    "split_zone_tags",
    "score_zones",
    "ZONES",
]

ZONES = ("bottom", "top")


@dataclass(frozen=True)
class ScoredCue:
    """One caption as shown: [start_s, end_s), its text and, when its file says, its zone
    ("top" or "bottom"; None when untagged)."""

    start_s: float
    end_s: float
    text: str
    zone: str | None = field(default=None, compare=False)
    """Not part of equality: two cues with the same times and text are the same caption."""


# An ASS override block: "{\\an8}", "{\\i1\\b1}" ...
_OVERRIDE_BLOCK = re.compile(r"\{\\[^}]*\}")
_ALIGNMENT = re.compile(r"\\(an|a)(\d+)")


def split_zone_tags(text: str) -> tuple[str, str | None]:
    """(text without ASS override blocks, the zone its alignment tag names or None):
    `\\an7`-`\\an9` (numpad) or legacy `\\a5`-`\\a7` are "top", other alignments "bottom"."""
    zone = None
    for block in _OVERRIDE_BLOCK.findall(text):
        for kind, number in _ALIGNMENT.findall(block):
            value = int(number)
            top = value in (7, 8, 9) if kind == "an" else value in (5, 6, 7)
            zone = "top" if top else "bottom"
    return _OVERRIDE_BLOCK.sub("", text).strip(), zone


def _vtt_zone(settings: str | None) -> str | None:
    """The zone a WebVTT `line:` cue setting puts a cue in: a line number from the top (>= 0) or a
    percentage under 50 % is "top"; from the bottom (< 0) or 50 % and more "bottom"."""
    match_ = re.search(r"(?:^|\s)line:(-?[\d.]+)(%?)", str(settings or ""))
    if not match_:
        return None
    value, percent = float(match_.group(1)), match_.group(2)
    if percent:
        return "top" if value < 50 else "bottom"
    return "top" if value >= 0 else "bottom"


# ---------------------------------------------------------------------------- parsing


def _parse_vtt(text: str) -> list[ScoredCue]:
    """WebVTT cues via webvtt-py: its `text` drops cue tags (<v>, <i>, ...); character
    references (&amp; ...) are decoded here."""
    document = webvtt.WebVTT.from_string(text)
    cues = []
    for cue in document.captions:
        body, tag_zone = split_zone_tags(html.unescape(cue.text))
        cues.append(
            ScoredCue(
                cue.start_time.in_milliseconds() / 1000,
                cue.end_time.in_milliseconds() / 1000,
                body,
                _vtt_zone(getattr(cue, "settings", None)) or tag_zone,
            )
        )
    return cues


def parse_captions(text: str) -> list[ScoredCue]:
    """SRT or WebVTT text (told apart by the "WEBVTT" signature) as cues in time order."""
    text = text.lstrip("\ufeff")
    if text.lstrip().startswith("WEBVTT"):
        cues = _parse_vtt(text.lstrip())
    else:
        cues = [
            ScoredCue(sub.start.total_seconds(), sub.end.total_seconds(), *split_zone_tags(sub.content.strip()))
            for sub in srt.parse(text)
        ]
    return sorted(cues, key=lambda c: (c.start_s, c.end_s))


# ------------------------------------------------------------------------------- text


def normalize_text(text: str) -> str:
    """NFKC, every run of whitespace (line breaks included) one space, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def without_punctuation(text: str) -> str:
    """Normalized text without punctuation and spaces: what CER "without punctuation" compares."""
    return "".join(c for c in normalize_text(text) if not unicodedata.category(c).startswith(("P", "Z")))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) between two strings.

    One numpy row per character of the shorter string: the substitution/deletion step is
    vectorized, the insertion step is a running minimum (np.minimum.accumulate)."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes_a = np.frombuffer(a.encode("utf-32-le"), dtype=np.uint32)
    positions = np.arange(len(a) + 1, dtype=np.int64)
    row = positions.copy()
    for i, ch in enumerate(b, start=1):
        diagonal = row[:-1] + (codes_a != ord(ch))
        new = np.empty_like(row)
        new[0] = i
        new[1:] = np.minimum(row[1:] + 1, diagonal)
        # insertion: new[j] = min_k (new[k] + j - k), a running minimum of new[k] - k
        new = np.minimum.accumulate(new - positions) + positions
        row = new
    return int(row[-1])


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edits / reference characters, on normalized text.
    An empty reference scores 0.0 against an empty hypothesis and 1.0 otherwise."""
    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def _similarity(a: str, b: str) -> float:
    a, b = normalize_text(a), normalize_text(b)
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - edit_distance(a, b) / longest


# --------------------------------------------------------------------------- matching


def _overlap_ms(a: ScoredCue, b: ScoredCue) -> int:
    return max(0, round(1000 * (min(a.end_s, b.end_s) - max(a.start_s, b.start_s))))


def _hungarian_max(weight: list[list[float]]) -> list[tuple[int, int]]:
    """Rows matched to columns maximizing the total weight (a complete assignment of the
    smaller side). The O(n^2 m) potentials method on cost = -weight."""
    transpose = len(weight) > len(weight[0])
    if transpose:
        weight = [list(col) for col in zip(*weight)]
    n, m = len(weight), len(weight[0])
    inf = float("inf")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    owner = [0] * (m + 1)  # owner[j]: row (1-based) assigned to column j
    way = [0] * (m + 1)
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = owner[j0], inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = -weight[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    pairs = [(owner[j] - 1, j - 1) for j in range(1, m + 1) if owner[j]]
    return [(c, r) for r, c in pairs] if transpose else pairs


def match(truth: Sequence[ScoredCue], predicted: Sequence[ScoredCue]) -> list[tuple[int, int]]:
    """One-to-one (truth index, predicted index) pairs with positive time overlap that
    maximize the total overlap (whole milliseconds); among equal totals, the pairing with
    the most similar texts. Sorted by truth index."""
    edges = [
        (i, j, overlap)
        for i, t in enumerate(truth)
        for j, p in enumerate(predicted)
        if p.end_s > t.start_s and p.start_s < t.end_s and (overlap := _overlap_ms(t, p)) > 0
    ]
    # Connected components of the overlap graph (union-find over truth i and predicted ~j).
    parent: dict[object, object] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in edges:
        parent[find(("t", i))] = find(("p", j))
    components: dict[object, list[tuple[int, int, int]]] = {}
    for edge in edges:
        components.setdefault(find(("t", edge[0])), []).append(edge)

    pairs = []
    for component in components.values():
        if len(component) == 1:
            pairs.append(component[0][:2])
            continue
        rows = sorted({i for i, _, _ in component})
        cols = sorted({j for _, j, _ in component})
        # Text similarity only breaks ties: its total over the component stays below 1 ms.
        tie = 1.0 / (min(len(rows), len(cols)) + 1)
        weight = [[0.0] * len(cols) for _ in rows]
        for i, j, overlap in component:
            weight[rows.index(i)][cols.index(j)] = overlap + tie * _similarity(truth[i].text, predicted[j].text)
        for r, c in _hungarian_max(weight):
            if weight[r][c] > 0:  # a zero-weight pair is "not matched"
                pairs.append((rows[r], cols[c]))
    return sorted(pairs)


# ---------------------------------------------------------------------------- scoring


def _percentile(values: Sequence[float], q: float) -> float | None:
    return None if not values else round(float(np.percentile(np.asarray(values, dtype=float), q)), 1)


@dataclass
class Score:
    """Accuracy of one video (or, from `combine`, many pooled).

    recall = matched / true cues, precision = matched / predicted cues (each 1.0 when
    its denominator is 0: nothing to miss, nothing claimed). cer is character-weighted
    over matched cues (total edits / total reference characters); exact_text_rate is
    the share of matched cues whose normalized text is identical. Timing errors are
    absolute, in ms, over matched cues; None where nothing matched."""

    true_cues: int
    predicted_cues: int
    matched: int
    missed: int
    phantom: int
    recall: float
    precision: float
    f1: float
    cer: float | None
    exact_text_rate: float | None
    start_error_ms_median: float | None
    start_error_ms_p95: float | None
    end_error_ms_median: float | None
    end_error_ms_p95: float | None
    # What pooling needs.
    edits: int = 0
    reference_chars: int = 0
    exact: int = 0
    start_errors_ms: tuple[float, ...] = field(default=(), repr=False)
    end_errors_ms: tuple[float, ...] = field(default=(), repr=False)
    # CER with punctuation and spaces removed from both texts (so the two CERs show how much is punctuation).
    cer_no_punct: float | None = None
    edits_no_punct: int = 0
    reference_chars_no_punct: int = 0
    # Back-to-back true cues whose texts differ by one character: found when both are matched (not merged).
    one_char_changes: int = 0
    one_char_changes_found: int = 0

    def as_dict(self) -> dict:
        """The summary numbers (not the per-cue error lists), JSON-ready."""
        return {
            name: getattr(self, name)
            for name in (
                "true_cues",
                "predicted_cues",
                "matched",
                "missed",
                "phantom",
                "recall",
                "precision",
                "f1",
                "cer",
                "exact_text_rate",
                "start_error_ms_median",
                "start_error_ms_p95",
                "end_error_ms_median",
                "end_error_ms_p95",
                "edits",
                "reference_chars",
                "exact",
                "cer_no_punct",
                "edits_no_punct",
                "reference_chars_no_punct",
                "one_char_changes",
                "one_char_changes_found",
                "one_char_change_rate",
            )
        }

    @property
    def one_char_change_rate(self) -> float | None:
        return self.one_char_changes_found / self.one_char_changes if self.one_char_changes else None


def _make_score(
    true_cues: int,
    predicted_cues: int,
    matched: int,
    edits: int,
    reference_chars: int,
    exact: int,
    start_errors: Sequence[float],
    end_errors: Sequence[float],
    *,
    edits_no_punct: int = 0,
    reference_chars_no_punct: int = 0,
    one_char_changes: int = 0,
    one_char_changes_found: int = 0,
) -> Score:
    recall = matched / true_cues if true_cues else 1.0
    precision = matched / predicted_cues if predicted_cues else 1.0
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    if matched:
        cer_value = edits / reference_chars if reference_chars else float(edits > 0)
        exact_rate = exact / matched
    else:
        cer_value, exact_rate = None, None
    return Score(
        true_cues=true_cues,
        predicted_cues=predicted_cues,
        matched=matched,
        missed=true_cues - matched,
        phantom=predicted_cues - matched,
        recall=recall,
        precision=precision,
        f1=f1,
        cer=cer_value,
        exact_text_rate=exact_rate,
        start_error_ms_median=_percentile(start_errors, 50),
        start_error_ms_p95=_percentile(start_errors, 95),
        end_error_ms_median=_percentile(end_errors, 50),
        end_error_ms_p95=_percentile(end_errors, 95),
        edits=edits,
        reference_chars=reference_chars,
        exact=exact,
        start_errors_ms=tuple(start_errors),
        end_errors_ms=tuple(end_errors),
        cer_no_punct=(
            edits_no_punct / reference_chars_no_punct if reference_chars_no_punct else float(edits_no_punct > 0)
        )
        if matched
        else None,
        edits_no_punct=edits_no_punct,
        reference_chars_no_punct=reference_chars_no_punct,
        one_char_changes=one_char_changes,
        one_char_changes_found=one_char_changes_found,
    )


def one_char_changes(truth: Sequence[ScoredCue]) -> list[int]:
    """Indices k of true cues that follow cue k-1 with no gap and differ from it by one character."""
    return [
        k
        for k in range(1, len(truth))
        if abs(truth[k].start_s - truth[k - 1].end_s) < 1e-6
        and edit_distance(normalize_text(truth[k - 1].text), normalize_text(truth[k].text)) == 1
    ]


def score(truth: Sequence[ScoredCue], predicted: Sequence[ScoredCue]) -> Score:
    """Match predicted cues to true cues and measure recall, precision, text and timing."""
    edits = reference_chars = exact = edits_np = chars_np = 0
    start_errors, end_errors = [], []
    pairs = match(truth, predicted)
    for i, j in pairs:
        ref, hyp = normalize_text(truth[i].text), normalize_text(predicted[j].text)
        edits += edit_distance(ref, hyp)
        reference_chars += len(ref)
        exact += ref == hyp
        ref_np = without_punctuation(truth[i].text)
        edits_np += edit_distance(ref_np, without_punctuation(predicted[j].text))
        chars_np += len(ref_np)
        start_errors.append(round(abs(predicted[j].start_s - truth[i].start_s) * 1000, 1))
        end_errors.append(round(abs(predicted[j].end_s - truth[i].end_s) * 1000, 1))
    matched_truth = {i for i, _ in pairs}
    changes = one_char_changes(truth)
    return _make_score(
        len(truth),
        len(predicted),
        len(pairs),
        edits,
        reference_chars,
        exact,
        start_errors,
        end_errors,
        edits_no_punct=edits_np,
        reference_chars_no_punct=chars_np,
        one_char_changes=len(changes),
        one_char_changes_found=sum(1 for k in changes if {k - 1, k} <= matched_truth),
    )


def zone_count(cues: Sequence[ScoredCue]) -> int:
    """How many zones a file's cues name (untagged cues are the bottom zone)."""
    return len({cue.zone or "bottom" for cue in cues}) if cues else 0


def score_zones(
    truth: Sequence[ScoredCue], predicted: Sequence[ScoredCue], *, untagged_zone: str = "bottom"
) -> tuple[Score, dict[str, Score]]:
    """(the pooled score, the score per zone) of one video.

    A truth with one zone is scored as one timeline (its per-zone dict has that one zone), as
    `score` does. A truth with two zones is matched within each zone: a true cue's zone is its
    tag's ("bottom" untagged), a predicted cue's its tag's or `untagged_zone` (the placement of
    the one zone a pipeline that found one zone captioned: its export tags nothing).
    """
    if zone_count(truth) <= 1:
        zone = (truth[0].zone or "bottom") if truth else "bottom"
        pooled = score(truth, predicted)
        return pooled, {zone: pooled}
    per_zone = {}
    for zone in ZONES:
        true_cues = [c for c in truth if (c.zone or "bottom") == zone]
        predicted_cues = [c for c in predicted if (c.zone or untagged_zone) == zone]
        per_zone[zone] = score(true_cues, predicted_cues)
    return combine(list(per_zone.values())), per_zone


def combine(scores: Sequence[Score]) -> Score:
    """Pool several videos' scores: counts and edits summed, timing errors pooled (so a
    video with many cues weighs more than one with few)."""
    return _make_score(
        sum(s.true_cues for s in scores),
        sum(s.predicted_cues for s in scores),
        sum(s.matched for s in scores),
        sum(s.edits for s in scores),
        sum(s.reference_chars for s in scores),
        sum(s.exact for s in scores),
        [e for s in scores for e in s.start_errors_ms],
        [e for s in scores for e in s.end_errors_ms],
        edits_no_punct=sum(s.edits_no_punct for s in scores),
        reference_chars_no_punct=sum(s.reference_chars_no_punct for s in scores),
        one_char_changes=sum(s.one_char_changes for s in scores),
        one_char_changes_found=sum(s.one_char_changes_found for s in scores),
    )
