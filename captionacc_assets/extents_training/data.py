"""Training examples for the pair model: 10 Hz caption crops and per-frame caption states.

Videos come from the accuracy benchmark's sets (`evaluation.eval_set`, and the one-character
set `evaluation.one_char_set`), with seeds disjoint from the benchmark's seed 0, so every
condition they vary (language, font, style, fade, background, timing case, distractors,
resolution, counters and one-letter edits over moving footage) is covered. Two ways in:

- generator videos of the eval set are rendered directly at the 10 Hz instants the pipeline
  samples (frame k = the last video frame whose time is <= i / 10), which skips encoding
  whole videos; JPEG at a random quality stands in for the codec's artefacts;
- everything else is written as a real video (libass or the generator, H.264 at the item's
  CRF) and decoded at 10 Hz inside the caption region, as the pipeline decodes it.

The crop region imitates layout inference (caption boxes padded by 0.6 line heights
above and below, a line height left and right, at least 80% of the width around the
centre) and is jittered per video, so the model does not learn one exact framing.
A frame's state is the text it shows (-1: none); pairs get their label from two states.
"""

from __future__ import annotations

import dataclasses
import hashlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from captionacc_assets.core.extents.labels import LABELS, label_between
from captionacc_assets.core.extents.pair_inference import preprocess
from captionacc_assets.core.index_space import frame_count
from captionacc_assets.core.region import Region
from captionacc_assets.core.video import iter_frames_at, probe_video
from captionacc_assets.evaluation.eval_set import EvalItem, build_eval_set, font_covers, language_texts, shown_time
from captionacc_assets.evaluation.one_char_set import build_one_char_set
from captionacc_assets.synthetic.captions_render import font_size_px
from captionacc_assets.synthetic.generate import _renderer, write_video
from captionacc_assets.synthetic.libass_render import write_libass_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec

# Benchmark (eval) videos use seed 0; training and validation use these.
TRAIN_SEED = 4101
VALIDATION_SEED = 4102


@dataclass
class VideoExamples:
    name: str
    frames: np.ndarray  # (n, 3, H, W) uint8, preprocessed crops at 10 Hz
    states: np.ndarray  # (n,) int: text id shown, -1 for none
    conditions: dict


def pair_label(state_a: int, state_b: int) -> int:
    """Index into LABELS of the pair (A, B) from the two frames' caption states (-1: none)."""
    return LABELS.index(label_between(state_a >= 0, state_b >= 0, state_a != state_b))


def pair_labels(states: np.ndarray) -> np.ndarray:
    """Labels of every consecutive pair (i, i + 1)."""
    return np.array([pair_label(int(a), int(b)) for a, b in zip(states[:-1], states[1:])], dtype=np.int64)


def _one_char_edit(text: str, language: str, font: str, rng: np.random.Generator) -> str | None:
    """`text` with one character swapped for another of the language (one the font draws)."""
    pool = sorted({ch for t in language_texts(language) for ch in t if not ch.isspace()})
    positions = [i for i, ch in enumerate(text) if not ch.isspace()]
    for _ in range(10):
        i = positions[int(rng.integers(len(positions)))]
        new = pool[int(rng.integers(len(pool)))]
        edited = text[:i] + new + text[i + 1 :]
        if edited != text and font_covers(font, edited):
            return edited
    return None


def with_one_char_changes(item: EvalItem, seed: int, share: float = 0.5) -> EvalItem:
    """The same video with about `share` of its cues split in two halves shown back to back,
    the second half differing by one character: the benchmark holds few such changes,
    and they are the hardest "different" pairs (a new text is an easy one)."""
    language = item.conditions.get("language")
    if not item.spec.cues or language is None:
        return item
    rng = np.random.default_rng([seed, int(hashlib.sha256(item.name.encode()).hexdigest()[:8], 16), 1])
    cues = []
    for cue in item.spec.cues:
        tenths = int(round((cue.end_s - cue.start_s) * 10))
        edited = _one_char_edit(cue.text, language, item.spec.style.font, rng) if tenths >= 12 else None
        if edited is None or rng.random() >= share:
            cues.append(cue)
            continue
        middle = round(cue.start_s + tenths // 2 / 10, 1)
        cues += [Cue(cue.start_s, middle, cue.text), Cue(middle, cue.end_s, edited)]
    return dataclasses.replace(item, spec=dataclasses.replace(item.spec, cues=tuple(cues)))


def caption_region_px(item: EvalItem, rng: np.random.Generator, pad: float = 0.6) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) like layout inference would propose, jittered: `pad` line heights
    above and below (libass places lines a little differently from the generator's boxes)."""
    spec = item.spec
    w, h = spec.width, spec.height
    renderer = _renderer(spec)
    size = font_size_px(spec.style, h)
    boxes = [layer.box for layer in renderer.captions.values()]
    if boxes:
        left = float(min(b[0] for b in boxes))
        top = float(min(b[1] for b in boxes))
        right = float(max(b[2] for b in boxes))
        bottom = float(max(b[3] for b in boxes))
    else:  # no captions: the layout's default bottom band
        left, top, right, bottom = 0.05 * w, 0.80 * h, 0.95 * w, 0.96 * h
    jitter = lambda scale: float(rng.uniform(-scale, scale)) * size  # noqa: E731
    top -= pad * size + jitter(0.3)
    bottom += pad * size + jitter(0.3)
    half = max(w / 2 - left, right - w / 2, 0.4 * w) + size + jitter(0.8)
    x0, x1 = w / 2 - half, w / 2 + half
    return (int(max(0, x0)), int(max(0, top)), int(min(w, x1)), int(min(h, bottom)))


def render_video_examples(item: EvalItem, seed: int) -> VideoExamples:
    """Render a benchmark-style video's 10 Hz crops with JPEG artefacts and caption states."""
    spec = item.spec
    rng = np.random.default_rng([seed, int(hashlib.sha256(item.name.encode()).hexdigest()[:8], 16)])
    renderer = _renderer(spec)
    x0, y0, x1, y1 = caption_region_px(item, rng)
    n = frame_count(spec.duration_s)
    quality = int(rng.integers(35, 95))
    frames = []
    for i in range(n):
        crop = np.ascontiguousarray(renderer.frame(shown_time(spec, i))[y0:y1, x0:x1])
        ok, jpeg = cv2.imencode(".jpg", crop[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
        assert decoded is not None, "a JPEG this process just encoded decodes"
        crop = decoded[:, :, ::-1]
        frames.append(preprocess(np.ascontiguousarray(crop)))
    return VideoExamples(item.name, np.stack(frames), caption_states(spec, n), dict(item.conditions))


def caption_states(spec: VideoSpec, n: int) -> np.ndarray:
    """Per 10 Hz index, the id of the text shown (-1: none): the last frame at or before i / 10 s."""
    texts: dict[str, int] = {}
    states = []
    for i in range(n):
        cue = spec.cue_at(shown_time(spec, i))
        states.append(-1 if cue is None else texts.setdefault(cue.text, len(texts)))
    return np.array(states, dtype=np.int64)


def encoded_video_examples(item: EvalItem, seed: int, video_dir: Path) -> VideoExamples:
    """Write the item as a real video (its renderer, H.264 at its CRF), then decode its 10 Hz
    crops inside a jittered caption region, as the pipeline does."""
    spec = item.spec
    video_dir.mkdir(parents=True, exist_ok=True)
    path = video_dir / f"{item.name}-{item.spec_hash[:12]}.mp4"
    if not path.exists():
        partial = path.with_name(f".{path.stem}.partial.mp4")
        (write_libass_video if item.renderer == "libass" else write_video)(spec, partial)
        partial.replace(path)
    rng = np.random.default_rng([seed, int(hashlib.sha256(item.name.encode()).hexdigest()[:8], 16), 2])
    x0, y0, x1, y1 = caption_region_px(item, rng, pad=0.9)
    region = Region(x0 / spec.width, y0 / spec.height, x1 / spec.width, y1 / spec.height)
    probe = probe_video(path)
    frames = [
        preprocess(np.ascontiguousarray(crop))
        for _, crop in iter_frames_at(path, range(probe.frame_count), region=region, probe=probe)
    ]
    return VideoExamples(item.name, np.stack(frames), caption_states(spec, len(frames)), dict(item.conditions))


def _cached(args: tuple[EvalItem, int, Path, bool]) -> Path:
    item, seed, cache_dir, encoded = args
    path = cache_dir / f"{seed}-{'encoded-' if encoded else ''}{item.name}-{item.spec_hash[:12]}.npz"
    if not path.exists():
        ex = encoded_video_examples(item, seed, cache_dir / "videos") if encoded else render_video_examples(item, seed)
        tmp = path.with_name(f".{path.stem}.partial.npz")
        np.savez_compressed(tmp, frames=ex.frames, states=ex.states)
        tmp.replace(path)
    return path


def load_videos(
    items: list[EvalItem], seed: int, cache_dir: Path, *, encoded: bool, workers: int = 2
) -> list[VideoExamples]:
    """The items' examples (rendered directly, or `encoded` as real videos), made once and cached."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(item, seed, cache_dir, encoded) for item in items]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            paths = list(pool.map(_cached, jobs))
    else:
        paths = [_cached(job) for job in jobs]
    out = []
    for item, path in zip(items, paths):
        with np.load(path) as data:
            out.append(VideoExamples(item.name, data["frames"], data["states"], dict(item.conditions)))
    return out


def load_split(size: int, seed: int, cache_dir: Path, *, workers: int = 2) -> list[VideoExamples]:
    """The generator videos of one split (`build_eval_set(size, seed)`), rendered directly."""
    items = [with_one_char_changes(item, seed) for item in build_eval_set(size, seed)]
    return load_videos(items, seed, cache_dir, encoded=False, workers=workers)


def load_encoded_split(libass_videos: int, one_char_videos: int, seed: int, cache_dir: Path, *, workers: int = 2):
    """Real encoded videos of one split: `libass_videos` of the libass eval set (with one-character
    splits, as the generator's) and `one_char_videos` per renderer of the one-character set."""
    items = (
        [with_one_char_changes(item, seed) for item in build_eval_set(libass_videos, seed, renderer="libass")]
        if libass_videos
        else []
    )
    items += build_one_char_set(one_char_videos, seed)
    return load_videos(items, seed, cache_dir, encoded=True, workers=workers)
