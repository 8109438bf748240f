"""Videos of back-to-back captions one character apart, over moving footage (issue 12, class 1).

Counters ("Round 1/12" -> "Round 2/12"), clocks ("00:17" -> "00:18"), scores ("3 : 2" ->
"3 : 3"), CJK counters, and Latin and CJK lines with one character changed, each caption shown
back to back with the next, between steady captions of 3-4 s (where a split is a phantom).
Moving shapes, panned photo footage and scene cuts; outline, shadow and box; several fonts,
sizes, colours, 480p-1080p, 24-60 fps, CRF 20-26; drawn by the project's generator and by libass.

One seed is one set: `benchmarks/bench_one_char_changes.py` measures on seed 0, and the pair
model trains and validates on other seeds (`extents_training/data.py`).
"""

from __future__ import annotations

import numpy as np

from captionacc_assets.core.region import Region
from captionacc_assets.evaluation.eval_set import PHRASES, RENDERERS, EvalItem, font_covers, shown_time
from captionacc_assets.synthetic.captions_render import font_size_px
from captionacc_assets.synthetic.generate import _renderer
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec

FONTS_BY_SCRIPT = {
    "latin": ("latin_sans", "latin_serif", "latin_brush", "latin_sans_bold", "cjk_sans"),
    "cjk": ("cjk_sans", "cjk_serif", "cjk_brush"),
}
BACKGROUNDS = ("moving", "footage", "cuts")
STYLES = ("outline", "shadow", "box")
FORMATS = (
    (854, 480, 24.0),
    (1280, 720, 30.0),
    (960, 540, 25.0),
    (1280, 720, 60.0),
    (1920, 1080, 30.0),
    (854, 480, 30.0),
)
COLOURS = ((255, 255, 255), (255, 230, 40))


# ------------------------------------------------------------------------ what changes


def _counter(rng, k: int) -> list[str]:
    total = int(rng.integers(10, 20))
    start = int(rng.integers(1, 4))
    word = ("Round", "Lap", "Question", "Level")[int(rng.integers(4))]
    return [f"{word} {start + i}/{total}" for i in range(k)]


def _clock(rng, k: int) -> list[str]:
    minute, second = int(rng.integers(0, 3)), int(rng.integers(0, 50))
    return [f"{minute:02d}:{second + i:02d}" for i in range(k)]


def _score(rng, k: int) -> list[str]:
    a, b = int(rng.integers(0, 4)), int(rng.integers(0, 4))
    out = []
    for _ in range(k):
        out.append(f"{a} : {b}")
        if rng.random() < 0.5:
            a = (a + 1) % 10
        else:
            b = (b + 1) % 10
    return out


def _cjk_counter(rng, k: int) -> list[str]:
    start = int(rng.integers(1, 5))
    form = ("第{}集", "还剩{}秒", "第{}回合")[int(rng.integers(3))]
    return [form.format(start + i) for i in range(k)]


def _edits(rng, language: str, font: str, k: int) -> list[str]:
    """A phrase, then each next caption one character away from the one before."""
    phrases = [p for p in PHRASES[language] if font_covers(font, p)]
    pool = sorted({ch for p in PHRASES[language] for ch in p if ch.isalpha() and font_covers(font, ch)})
    text = phrases[int(rng.integers(len(phrases)))]
    out = [text]
    while len(out) < k:
        positions = [i for i, ch in enumerate(text) if ch.isalpha()]
        i = positions[int(rng.integers(len(positions)))]
        new = pool[int(rng.integers(len(pool)))]
        edited = text[:i] + new + text[i + 1 :]
        if edited != text and edited not in out[-2:]:
            out.append(edited)
            text = edited
    return out


KINDS = {  # name -> (script, make texts)
    "counter": ("latin", lambda rng, font, k: _counter(rng, k)),
    "clock": ("latin", lambda rng, font, k: _clock(rng, k)),
    "score": ("latin", lambda rng, font, k: _score(rng, k)),
    "en": ("latin", lambda rng, font, k: _edits(rng, "en", font, k)),
    "es": ("latin", lambda rng, font, k: _edits(rng, "es", font, k)),
    "zh_counter": ("cjk", lambda rng, font, k: _cjk_counter(rng, k)),
    "zh": ("cjk", lambda rng, font, k: _edits(rng, "zh", font, k)),
    "ja": ("cjk", lambda rng, font, k: _edits(rng, "ja", font, k)),
}


def _cues(rng, texts_for, duration_s: float, counter_like: bool) -> tuple[Cue, ...]:
    """Runs of back-to-back captions one character apart, separated by a steady caption
    (3-4 s, another text) and short gaps."""
    cues: list[Cue] = []
    t = 0.5
    while True:
        run = texts_for(int(rng.integers(4, 8)))
        steady_len = int(rng.integers(30, 41)) / 10
        for text in run:
            length = 1.0 if counter_like else int(rng.integers(11, 18)) / 10
            if t + length > duration_s - 0.3:
                return tuple(cues)
            cues.append(Cue(round(t, 1), round(t + length, 1), text))
            t = round(t + length, 1)
        t = round(t + int(rng.integers(3, 8)) / 10, 1)
        if t + steady_len > duration_s - 0.3:
            return tuple(cues)
        steady = texts_for(1)[0]
        cues.append(Cue(t, round(t + steady_len, 1), steady))
        t = round(t + steady_len + int(rng.integers(3, 8)) / 10, 1)


def build_one_char_set(
    videos_per_renderer: int, seed: int = 0, duration_s: float = 24.0, renderers: tuple[str, ...] = RENDERERS
) -> list[EvalItem]:
    """`videos_per_renderer` videos for each renderer, the same for the same seed; a video's
    conditions name its kind of change, renderer, style, background, font and height."""
    items = []
    kinds = list(KINDS)
    for r, renderer in enumerate(RENDERERS):
        if renderer not in renderers:
            continue
        for v in range(videos_per_renderer):
            rng = np.random.default_rng([seed, r, v])
            kind = kinds[v % len(kinds)]
            script, make = KINDS[kind]
            fonts = FONTS_BY_SCRIPT[script]
            font = fonts[(v // len(kinds) + r) % len(fonts)]
            width, height, fps = FORMATS[(v + 2 * r) % len(FORMATS)]
            style = CaptionStyle(
                font=font,
                size_ratio=(0.045, 0.06, 0.08)[(v + r) % 3],
                color=COLOURS[v % 2],
                style=STYLES[(v + r) % len(STYLES)],
                placement="bottom" if v % 4 else "top",
                fade_s=0.2 if v % 5 == 3 else 0.0,
            )
            cues = _cues(
                rng, lambda k: make(rng, font, k), duration_s, kind in ("counter", "clock", "score", "zh_counter")
            )
            spec = VideoSpec(
                width=width,
                height=height,
                fps=fps,
                duration_s=duration_s,
                background=BACKGROUNDS[(v + r) % len(BACKGROUNDS)],
                cues=cues,
                style=style,
                seed=1000 * r + v + 100_000 * seed,  # another set, other pictures
                crf=(20, 23, 26)[v % 3],
            )
            name = f"{renderer}-{v:02d}-{kind}-{style.style}-{spec.background}-{font}-{height}p"
            conditions = {
                "kind": kind,
                "renderer": renderer,
                "style": style.style,
                "background": spec.background,
                "font": font,
                "resolution": f"{width}x{height}",
            }
            items.append(EvalItem(name, spec, conditions, renderer=renderer))
    return items


def caption_region(spec: VideoSpec) -> Region:
    """A band around every caption of the spec, padded like layout inference pads it (and a
    little more, so libass's slightly different placement stays inside)."""
    boxes = [layer.box for layer in _renderer(spec).captions.values()]
    size = font_size_px(spec.style, spec.height)
    top = min(b[1] for b in boxes) - 0.9 * size
    bottom = max(b[3] for b in boxes) + 0.9 * size
    half = (
        max(spec.width / 2 - min(b[0] for b in boxes), max(b[2] for b in boxes) - spec.width / 2, 0.4 * spec.width)
        + size
    )
    clip = lambda v, hi: min(max(v, 0), hi) / hi  # noqa: E731
    return Region(
        clip(spec.width / 2 - half, spec.width),
        clip(top, spec.height),
        clip(spec.width / 2 + half, spec.width),
        clip(bottom, spec.height),
    )


def truth_states(spec: VideoSpec, n: int) -> np.ndarray:
    """Per 10 Hz index, which cue it shows (-1: none): the last frame at or before i / 10 s."""
    index = {cue: k for k, cue in enumerate(spec.cues)}
    states = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        cue = spec.cue_at(shown_time(spec, i))
        if cue is not None:
            states[i] = index[cue]
    return states
