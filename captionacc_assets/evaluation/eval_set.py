"""The benchmark: a deterministic set of synthetic videos that spans what real captions vary in.

Each `EvalItem` is a `VideoSpec` plus the conditions it was drawn with (language, font,
style, background, resolution, fps, timing case, ...), so a report can say which
conditions the pipeline gets wrong. Every condition value is spread evenly over the set
(each key's values repeated and shuffled with the seed) rather than drawn independently,
so even a 30-video set covers every value several times.

Timing cases are what caption change-detection finds hard: very short cues (1-3
characters for 0.5 s), back-to-back cues with no gap, and back-to-back cues that differ
by one character. Two videos have no captions at all, one of them with on-screen text
that is not a caption (a corner logo and a sign): the right answer for both is nothing.

Sizes: "ci" (3 small videos, about 30 s in all), "full" (32 videos, over 10 minutes),
"zones" (8 videos with captions in two places, or a static text at the top that is not
captions), or any number of full-style videos.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from captionacc_assets.core.errors import InputError
from captionacc_assets.synthetic import backgrounds, captions_render, generate, libass_render, video_spec
from captionacc_assets.core.index_space import full_frame_indices
from captionacc_assets.compute.extract_frames_and_ocr import MIN_LAYOUT_FRAMES
from captionacc_assets.synthetic.captions_render import OUTLINE_WIDTH, font_size_px
from captionacc_assets.synthetic.fonts import load_font
from captionacc_assets.synthetic.generate import write_truth_srt, write_video
from captionacc_assets.synthetic.libass_render import write_libass_video
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec

FULL_SIZE = 32
CI_SIZE = 3
ZONES_SIZE = 8
NAMED_SIZES = {"ci": CI_SIZE, "full": FULL_SIZE, "zones": ZONES_SIZE}

# ----------------------------------------------------------------------------- phrases
# Short, everyday subtitle lines. Lengths are kept so one line fits a 16:9 frame at the
# largest caption size.

PHRASES: dict[str, tuple[str, ...]] = {
    "zh": (
        "你今天怎么来得这么早",
        "我们先去吃饭吧",
        "这件事你别担心",
        "外面下雨了",
        "他说明天再来",
        "你听见了吗",
        "我已经等了一个小时",
        "这个地方真漂亮",
        "快点，火车要开了",
        "谢谢你一直帮我",
        "我不知道该怎么办",
        "门口有人找你",
        "妈妈做的菜最好吃",
        "我们回家吧",
        "这是谁的手机？",
        "你相信我一次",
        "路上小心",
        "会议推迟到下午三点",
        "他好像生气了",
        "我马上就到",
        "别忘了带钥匙",
        "你想喝点什么？",
        "今年冬天特别冷",
        "我们还有机会",
    ),
    "ja": (
        "今日はいい天気ですね",
        "ちょっと待ってください",
        "駅まで歩いて行こう",
        "本当にありがとう",
        "明日の会議は何時ですか",
        "彼女はもう帰りました",
        "お腹が空いたね",
        "この店は美味しい",
        "どこへ行くの？",
        "気をつけて帰ってね",
        "それは知らなかった",
        "電車が遅れています",
        "もう一度言ってください",
        "先生に聞いてみよう",
        "猫が窓の外を見ている",
        "私も行きたいです",
        "急がないと間に合わない",
        "部屋の鍵をなくした",
        "夏休みは海に行こう",
        "心配しないで",
        "お茶を一杯どうぞ",
        "名前を教えてください",
        "雨が降りそうだ",
        "また来週会いましょう",
    ),
    "en": (
        "Where did you put the keys?",
        "We need to leave now.",
        "I told you this would happen.",
        "That's not what I meant.",
        "Can you hear me?",
        "Let's get out of here.",
        "She's waiting outside.",
        "I'll call you tomorrow.",
        "What time is it?",
        "Nobody knows the truth.",
        "Keep your voice down.",
        "The train leaves at six.",
        "I don't remember.",
        "You look tired today.",
        "Is everything all right?",
        "We can do this together.",
        "Turn off the lights.",
        "He never came back.",
        "Thanks for the coffee.",
        "This is my brother, Tom.",
        "Don't worry about it.",
        "It's been a long day.",
        "Follow me, quickly!",
        "How much does it cost?",
    ),
    "es": (
        "¿Dónde están las llaves?",
        "¡Qué sorpresa verte aquí!",
        "Mañana hablamos.",
        "No sé qué decir.",
        "¿Cuánto cuesta el pan?",
        "El niño está dormido.",
        "¡Vámonos ahora mismo!",
        "Mi corazón está contigo.",
        "¿Por qué no me llamaste?",
        "La canción es preciosa.",
        "Está lloviendo otra vez.",
        "¿Quién abrió la puerta?",
        "Tengo que irme pronto.",
        "¡Feliz cumpleaños, mamá!",
        "El año pasado fue difícil.",
        "¿Tienes un minuto?",
        "Él llegó tarde otra vez.",
        "Necesito pensar un poco.",
        "¡Cuidado con el perro!",
        "La reunión es a las tres.",
        "¿Qué hora es?",
        "Me encanta este lugar.",
        "Sí, claro que sí.",
        "Nunca olvidaré este día.",
    ),
}

# Very short cues: 1-3 characters, shown for 0.5 s.
SHORT_CUES: dict[str, tuple[str, ...]] = {
    "zh": ("好", "是的", "走吧", "对", "谢谢", "什么？", "嗯", "快跑"),
    "ja": ("はい", "うん", "え？", "行こう", "本当", "ね", "いや", "待て"),
    "en": ("OK", "No", "Hi!", "Yes", "Oh", "Go!", "Why", "Hey"),
    "es": ("Sí", "No", "Ya", "¿Y?", "Oh", "Ven", "¡Ay", "Olé"),
}

# Consecutive cues whose texts differ by exactly one character (one substitution or
# one insertion), shown back to back.
ONE_CHAR_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "zh": (
        ("我们明天见", "我们后天见"),
        ("他在家里等你", "她在家里等你"),
        ("这是我的书", "这是你的书"),
        ("三点开会", "四点开会"),
        ("我要去北京", "我要去南京"),
        ("你吃饭了吗", "你吃饭了吗？"),
    ),
    "ja": (
        ("私は学生です", "彼は学生です"),
        ("三時に会おう", "四時に会おう"),
        ("これは本です", "それは本です"),
        ("お茶をください", "お水をください"),
        ("右に曲がって", "左に曲がって"),
        ("行きます", "行きますか"),
    ),
    "en": (
        ("I see the cat.", "I see the car."),
        ("He is here.", "He is there."),
        ("It was fine.", "It was mine."),
        ("Open the door.", "Open the doors."),
        ("Turn left now.", "Turn left now!"),
        ("I can hear you.", "I can't hear you."),
    ),
    "es": (
        ("¿Dónde está el gato?", "¿Dónde está el pato?"),
        ("Es la una.", "Es la luna."),
        ("Mi casa es roja.", "Mi cosa es roja."),
        ("El año pasado.", "El año pesado."),
        ("Hola, amigo.", "Hola, amigos."),
        ("Es mi amigo.", "Es mi amiga."),
    ),
}

# ---------------------------------------------------------------------- condition values

LANGUAGES = ("zh", "ja", "en", "es")
FONTS_FOR = {  # candidate fonts per language; ones that lack a glyph are dropped (`usable_fonts`)
    "zh": ("cjk_sans", "cjk_serif", "cjk_brush"),
    "ja": ("cjk_sans", "cjk_serif", "cjk_brush"),
    "en": ("latin_sans", "latin_serif", "latin_brush", "cjk_sans"),
    "es": ("latin_sans", "latin_serif", "latin_brush", "cjk_sans"),
}
BACKGROUNDS = ("moving", "textured", "flat", "cuts", "footage")
# (resolution, fps): 60 fps only up to 720p, to keep generation time reasonable.
FORMATS = (
    ((854, 480), 24),
    ((854, 480), 60),
    ((960, 540), 25),
    ((960, 540), 30),
    ((1280, 720), 30),
    ((1280, 720), 60),
    ((1920, 1080), 24),
    ((1280, 720), 25),
    ((1920, 1080), 25),
    ((854, 480), 30),
    ((960, 540), 60),
    ((1280, 720), 24),
)
# The libass set: 10 and 15 fps as well (screen recordings, anime), and realistic H.264 CRFs.
LIBASS_FORMATS = FORMATS[:8] + (((854, 480), 10), ((1280, 720), 15), ((960, 540), 10), ((1920, 1080), 30))
LIBASS_CRFS = (20, 23, 26, 28)
LIBASS_SEED = 7_000_000  # the libass set's seed space, so its phrases and pictures differ from the generated set's
RENDERERS = ("generator", "libass")
SIZES = {"small": 0.045, "medium": 0.06, "large": 0.08}
COLOURS = {"white": (255, 255, 255), "yellow": (255, 225, 30)}
STYLES = ("outline", "shadow", "box")
PLACEMENTS = ("bottom", "top")
LINES = ("1", "2")
FADES = {"none": 0.0, "fade": 0.2}
TIMINGS = ("normal", "short", "back_to_back", "one_char")
DISTRACTORS = {"none": (), "logo": ("logo",), "sign": ("sign",)}
DURATIONS_S = (16, 18, 20, 22, 24, 26, 28, 30)

# A line must fit inside this share of the frame width (the renderer refuses lines
# that leave the frame).
MAX_LINE_WIDTH = 0.9


@dataclass(frozen=True)
class EvalItem:
    """One benchmark video: a file-safe name, the spec, and the conditions it exercises
    (string keys and values, for grouping results)."""

    name: str
    spec: VideoSpec
    conditions: dict[str, str]
    renderer: str = "generator"  # who draws the captions: "generator" (Pillow) or "libass" (ffmpeg)

    @property
    def spec_hash(self) -> str:
        """Changes when the spec, the renderer or their code changes (so stale files are remade).
        A second zone's cues and style are not in the spec's repr (so single-zone specs hash as
        they always did); they are added here when there are any."""
        second = repr((self.spec.second_cues, self.spec.second_style)) if self.spec.second_cues else ""
        return hashlib.sha256(
            repr(self.spec).encode() + second.encode() + self.renderer.encode() + _generator_fingerprint()
        ).hexdigest()


@lru_cache(maxsize=1)
def _generator_fingerprint() -> bytes:
    digest = hashlib.sha256()
    for module in (backgrounds, captions_render, generate, video_spec, libass_render):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.digest()


# ------------------------------------------------------------------------------ glyphs


@lru_cache(maxsize=None)
def _missing_glyph_mask(font: str) -> tuple[bytes, tuple[int, int]]:
    mask = load_font(font, 32).getmask("\U0010fffd")  # a private-use code point no font maps
    return bytes(mask), mask.size


@lru_cache(maxsize=None)
def font_has_glyph(font: str, char: str) -> bool:
    """True if the font draws `char` with its own glyph rather than the missing-glyph box."""
    if char.isspace():
        return True
    mask = load_font(font, 32).getmask(char)
    return (bytes(mask), mask.size) != _missing_glyph_mask(font)


def font_covers(font: str, text: str) -> bool:
    return all(font_has_glyph(font, ch) for ch in text)


def language_texts(language: str) -> list[str]:
    """Every text the set can show in a language."""
    return [*PHRASES[language], *SHORT_CUES[language], *(t for pair in ONE_CHAR_PAIRS[language] for t in pair)]


@lru_cache(maxsize=None)
def usable_fonts(language: str) -> tuple[str, ...]:
    """The candidate fonts that draw every short cue and one-character pair of a
    language and most of its phrases (phrases a font lacks a glyph for are skipped for
    that font: e.g. AR PL fonts lack some Japanese-only kanji such as 帰)."""
    must = [*SHORT_CUES[language], *(t for pair in ONE_CHAR_PAIRS[language] for t in pair)]
    return tuple(
        f
        for f in FONTS_FOR[language]
        if all(font_covers(f, t) for t in must)
        and sum(font_covers(f, p) for p in PHRASES[language]) >= 0.75 * len(PHRASES[language])
    )


def line_fits(line: str, font: str, style: CaptionStyle, width: int, height: int) -> bool:
    size = font_size_px(style, height)
    stroke = max(1, round(size * OUTLINE_WIDTH)) if style.style == "outline" else 0
    left, _, right, _ = load_font(font, size).getbbox(line, stroke_width=stroke)
    return right - left <= MAX_LINE_WIDTH * width


# ------------------------------------------------------------------------------- cues


def _to_s(deciseconds: int) -> float:
    return round(deciseconds / 10, 1)


class _TextSource:
    """Phrases of one language in a seeded order, each used once before any repeats,
    skipping lines that would not fit the frame."""

    def __init__(self, rng: np.random.Generator, language: str, style: CaptionStyle, width: int, height: int):
        fits = [
            p
            for p in PHRASES[language]
            if font_covers(style.font, p) and line_fits(p, style.font, style, width, height)
        ]
        if len(fits) < 4:
            raise InputError(f"too few {language} phrases fit {width}x{height} at size {style.size_ratio}")
        self.order = [fits[i] for i in rng.permutation(len(fits))]
        self.next = 0

    def take(self) -> str:
        text = self.order[self.next % len(self.order)]
        self.next += 1
        return text


def make_cues(
    rng: np.random.Generator,
    *,
    language: str,
    timing: str,
    lines: int,
    duration_s: float,
    style: CaptionStyle,
    width: int,
    height: int,
) -> tuple[Cue, ...]:
    """A caption timeline on the 0.1 s grid filling the video, with the timing case
    sprinkled through it. Ordinary cues last 1.2-3.0 s with 0.3-1.0 s gaps; "short":
    every third cue is 1-3 characters for 0.5 s; "back_to_back": every other cue
    follows the one before with no gap; "one_char": every third cue is followed, with
    no gap, by a copy differing in one character."""
    texts = _TextSource(rng, language, style, width, height)
    shorts = [SHORT_CUES[language][i] for i in rng.permutation(len(SHORT_CUES[language]))]
    pairs = [
        p
        for p in ONE_CHAR_PAIRS[language]
        if all(font_covers(style.font, t) and line_fits(t, style.font, style, width, height) for t in p)
    ]
    pairs = [pairs[i] for i in rng.permutation(len(pairs))]
    end_limit = int(round(duration_s * 10)) - 5  # the last cue ends 0.5 s before the video does
    t = int(rng.integers(5, 11))  # first cue at 0.5-1.0 s
    cues: list[Cue] = []
    count = 0

    def caption_text() -> str:
        return "\n".join(texts.take() for _ in range(lines))

    while True:
        count += 1
        if timing == "short" and count % 3 == 0:
            block = [(shorts[(count // 3) % len(shorts)], 5)]
        elif timing == "one_char" and count % 3 == 0 and pairs:
            first, second = pairs[(count // 3) % len(pairs)]
            block = [(first, int(rng.integers(15, 26))), (second, int(rng.integers(15, 26)))]
        else:
            block = [(caption_text(), int(rng.integers(12, 31)))]
        if t + sum(d for _, d in block) > end_limit:
            break
        for text, length in block:
            cues.append(Cue(_to_s(t), _to_s(t + length), text))
            t += length
        back_to_back = timing == "back_to_back" and count % 2 == 1
        t += 0 if back_to_back else int(rng.integers(3, 11))
    return tuple(cues)


# ------------------------------------------------------------------------------ sets


def _balanced(rng: np.random.Generator, values, n: int) -> list:
    """n picks that use every value as evenly as possible (each one at least once when
    n >= len(values)), in a seeded order."""
    values = list(values)
    picks = (values * math.ceil(n / len(values)))[:n] if n else []
    return [picks[i] for i in rng.permutation(len(picks))]


def _captioned_item(
    index: int,
    seed: int,
    conditions: dict[str, str],
    *,
    size: tuple[int, int],
    fps: float,
    duration_s: float,
    font: str,
    distractors: tuple[str, ...],
) -> EvalItem:
    rng = np.random.default_rng([seed, index, 0xE5A1])
    width, height = size
    style = CaptionStyle(
        font=font,
        size_ratio=SIZES[conditions["size"]],
        color=COLOURS[conditions["colour"]],
        style=conditions["style"],
        placement=conditions["placement"],
        fade_s=FADES[conditions["fade"]],
    )
    cues = make_cues(
        rng,
        language=conditions["language"],
        timing=conditions["timing"],
        lines=int(conditions["lines"]),
        duration_s=duration_s,
        style=style,
        width=width,
        height=height,
    )
    spec = VideoSpec(
        width=width,
        height=height,
        fps=fps,
        duration_s=duration_s,
        background=conditions["background"],
        cues=cues,
        style=style,
        distractors=distractors,
        seed=seed * 1000 + index,
    )
    name = f"{index:02d}-{conditions['language']}-{conditions['background']}-{conditions['timing']}-{height}p"
    return EvalItem(name, spec, conditions)


def _empty_item(
    index: int, seed: int, *, kind: str, size: tuple[int, int], fps: float, duration_s: float, background: str
) -> EvalItem:
    """A video whose right answer is "no captions": "blank" (picture only) or
    "distractors" (a constant logo and a scene sign)."""
    distractors = ("logo", "sign") if kind == "distractors" else ()
    spec = VideoSpec(
        width=size[0],
        height=size[1],
        fps=fps,
        duration_s=duration_s,
        background=background,
        cues=(),
        distractors=distractors,
        seed=seed * 1000 + index,
    )
    conditions = {
        "captions": "none",
        "background": background,
        "resolution": f"{size[0]}x{size[1]}",
        "fps": f"{fps:g}",
        "distractors": "logo+sign" if distractors else "none",
    }
    return EvalItem(f"{index:02d}-none-{kind}-{size[1]}p", spec, conditions)


def _full_style_set(size: int, seed: int, formats=FORMATS) -> list[EvalItem]:
    rng = np.random.default_rng([seed, 0xE5A0])
    empty_kinds = (["distractors"] if size >= 4 else []) + (["blank"] if size >= 8 else [])
    n = size - len(empty_kinds)
    columns = {
        "language": _balanced(rng, LANGUAGES, n),
        "background": _balanced(rng, BACKGROUNDS, n),
        "format": _balanced(rng, range(len(formats)), n),
        "size": _balanced(rng, SIZES, n),
        "colour": _balanced(rng, COLOURS, n),
        "style": _balanced(rng, STYLES, n),
        "placement": _balanced(rng, PLACEMENTS, n),
        "lines": _balanced(rng, LINES, n),
        "fade": _balanced(rng, FADES, n),
        "timing": _balanced(rng, TIMINGS, n),
        # Distractors on about one captioned video in four.
        "distractors": _balanced(rng, ["logo", "sign"] + ["none"] * 6, n),
        "duration": _balanced(rng, DURATIONS_S, size),
    }
    font_turn = {language: int(rng.integers(len(usable_fonts(language)))) for language in LANGUAGES}
    items = []
    for i in range(n):
        (width, height), fps = formats[columns["format"][i]]
        language = columns["language"][i]
        fonts = usable_fonts(language)
        font = fonts[font_turn[language] % len(fonts)]
        font_turn[language] += 1
        conditions = {
            key: str(columns[key][i])
            for key in (
                "language",
                "background",
                "size",
                "colour",
                "style",
                "placement",
                "lines",
                "fade",
                "timing",
                "distractors",
            )
        }
        conditions.update(captions="yes", font=font, resolution=f"{width}x{height}", fps=f"{fps:g}")
        items.append(
            _captioned_item(
                i,
                seed,
                conditions,
                size=(width, height),
                fps=float(fps),
                duration_s=float(columns["duration"][i]),
                font=font,
                distractors=DISTRACTORS[conditions["distractors"]],
            )
        )
    for k, kind in enumerate(empty_kinds):
        i = n + k
        (width, height), fps = formats[int(rng.integers(len(formats)))]
        background = ("moving", "cuts")[k % 2]
        items.append(
            _empty_item(
                i,
                seed,
                kind=kind,
                size=(width, height),
                fps=float(fps),
                duration_s=float(columns["duration"][i]),
                background=background,
            )
        )
    return items


def _ci_set(seed: int) -> list[EvalItem]:
    """Three small videos (about 28 s, 480p and 360p): Chinese with back-to-back cues,
    English with very short cues, and on-screen text that is not a caption."""
    rng = np.random.default_rng([seed, 0xC1])
    zh = {
        "language": "zh",
        "background": "moving",
        "size": "medium",
        "colour": "white",
        "style": "outline",
        "placement": "bottom",
        "lines": "1",
        "fade": "none",
        "timing": "back_to_back",
        "distractors": "none",
        "captions": "yes",
        "font": "cjk_sans",
        "resolution": "854x480",
        "fps": "30",
    }
    en = {
        **zh,
        "language": "en",
        "background": ("textured", "cuts")[int(rng.integers(2))],
        "colour": "yellow",
        "style": "shadow",
        "timing": "short",
        "font": "latin_sans",
        "fps": "25",
        "size": "large",
    }
    return [
        _captioned_item(0, seed, zh, size=(854, 480), fps=30.0, duration_s=10.0, font="cjk_sans", distractors=()),
        _captioned_item(1, seed, en, size=(854, 480), fps=25.0, duration_s=10.0, font="latin_sans", distractors=()),
        _empty_item(2, seed, kind="distractors", size=(640, 360), fps=30.0, duration_s=8.0, background="moving"),
    ]


# ------------------------------------------------------------------------------ zones

# (kind, language, second language, font, second font, size, second size, colour, second colour, style,
#  background, (width, height), fps, duration s). "netflix": bottom captions and about a third of the
# cues moved to the top (never at the same time); "bilingual": two languages at once, top and bottom,
# in different fonts and sizes; "title": bottom captions only, with a static programme title and a
# logo at the top (the right answer is one zone).
ZONE_CASES = (
    (
        "netflix",
        "zh",
        "zh",
        "cjk_sans",
        "cjk_sans",
        "medium",
        "medium",
        "white",
        "white",
        "outline",
        "moving",
        (1280, 720),
        30,
        30,
    ),
    (
        "netflix",
        "en",
        "en",
        "latin_sans",
        "latin_sans",
        "large",
        "large",
        "yellow",
        "yellow",
        "shadow",
        "footage",
        (960, 540),
        25,
        32,
    ),
    (
        "netflix",
        "ja",
        "ja",
        "cjk_serif",
        "cjk_serif",
        "medium",
        "medium",
        "white",
        "white",
        "box",
        "cuts",
        (854, 480),
        24,
        30,
    ),
    (
        "bilingual",
        "zh",
        "en",
        "cjk_sans",
        "latin_serif",
        "large",
        "small",
        "white",
        "yellow",
        "outline",
        "textured",
        (1280, 720),
        30,
        26,
    ),
    (
        "bilingual",
        "en",
        "es",
        "latin_sans",
        "cjk_sans",
        "medium",
        "small",
        "yellow",
        "white",
        "outline",
        "moving",
        (854, 480),
        30,
        24,
    ),
    (
        "bilingual",
        "ja",
        "en",
        "cjk_brush",
        "latin_sans",
        "large",
        "medium",
        "white",
        "white",
        "shadow",
        "footage",
        (960, 540),
        30,
        24,
    ),
    ("title", "zh", None, "cjk_serif", None, "medium", None, "white", None, "outline", "cuts", (1280, 720), 25, 24),
    ("title", "en", None, "latin_serif", None, "large", None, "yellow", None, "box", "moving", (854, 480), 30, 24),
)


def shown_time(spec: VideoSpec, index: int) -> float:
    """The time of the video frame a 10 Hz index shows: the last one at or before index / 10 s."""
    return spec.frame_time(min(int(np.floor(index * spec.fps / 10 + 1e-6)), spec.frame_count - 1))


def sampled_cue_count(cues: tuple[Cue, ...], duration_s: float) -> int:
    """How many different cues the full-frame samples of a video this long show (initial
    processing samples at 0.1 Hz, densified to at least MIN_LAYOUT_FRAMES for short videos)."""
    n = int(math.ceil(duration_s * 10 - 1e-6))
    times = [i / 10 for i in full_frame_indices(n, MIN_LAYOUT_FRAMES)]
    return sum(1 for cue in cues if any(cue.visible_at(t) for t in times))


def _netflix_split(cues: tuple[Cue, ...], duration_s: float) -> tuple[tuple[Cue, ...], tuple[Cue, ...]]:
    """(bottom cues, top cues): every third cue goes to the top. Of the three ways to pick them,
    the first whose top cues show in at least two full-frame samples, so layout inference has
    the evidence a second zone needs (one sighting of a changing text is not enough, by design)."""
    for offset in (1, 2, 0):
        top = tuple(cue for k, cue in enumerate(cues) if k % 3 == offset)
        if sampled_cue_count(top, duration_s) >= 2:
            break
    bottom = tuple(cue for cue in cues if cue not in top)
    return bottom, top


def _zones_item(index: int, seed: int, case: tuple) -> EvalItem:
    (
        kind,
        language,
        second_language,
        font,
        second_font,
        size,
        second_size,
        colour,
        second_colour,
        style_name,
        background,
        (width, height),
        fps,
        duration_s,
    ) = case
    rng = np.random.default_rng([seed, index, 0x2015])
    style = CaptionStyle(font=font, size_ratio=SIZES[size], color=COLOURS[colour], style=style_name, placement="bottom")
    cues = make_cues(
        rng,
        language=language,
        timing="normal",
        lines=1,
        duration_s=float(duration_s),
        style=style,
        width=width,
        height=height,
    )
    second_style: CaptionStyle | None = None
    second_cues: tuple[Cue, ...] = ()
    distractors: tuple[str, ...] = ()
    if kind == "netflix":
        cues, second_cues = _netflix_split(cues, float(duration_s))
        second_style = dataclasses.replace(style, placement="top")
    elif kind == "bilingual":
        second_style = CaptionStyle(
            font=second_font,
            size_ratio=SIZES[second_size],
            color=COLOURS[second_colour],
            style=style_name,
            placement="top",
        )
        texts = _TextSource(rng, second_language, second_style, width, height)
        second_cues = tuple(Cue(cue.start_s, cue.end_s, texts.take()) for cue in cues)
    else:
        distractors = ("title", "logo")
    spec = VideoSpec(
        width=width,
        height=height,
        fps=float(fps),
        duration_s=float(duration_s),
        background=background,
        cues=cues,
        style=style,
        distractors=distractors,
        seed=seed * 1000 + 900 + index,
        second_cues=second_cues,
        second_style=second_style,
    )
    conditions = {
        "zones": kind,
        "true_zones": str(spec.zone_count),
        "language": language,
        "font": font,
        "style": style_name,
        "background": background,
        "resolution": f"{width}x{height}",
        "fps": f"{fps:g}",
        "captions": "yes",
    }
    if second_cues:
        conditions.update(second_language=second_language, second_font=second_font or font)
    languages = f"{language}-{second_language}" if kind == "bilingual" else language
    return EvalItem(f"z{index:02d}-{kind}-{languages}-{background}-{height}p", spec, conditions)


def _zones_set(seed: int) -> list[EvalItem]:
    return [_zones_item(i, seed, case) for i, case in enumerate(ZONE_CASES)]


def build_eval_set(size: int | str, seed: int = 0, renderer: str = "generator") -> list[EvalItem]:
    """The benchmark videos for a size ("ci", "full" or a count), the same for the same seed.

    `renderer="libass"` is the second set: other phrases, pictures and timings (its own seed
    space), frame rates down to 10 fps, H.264 at CRF 20-28, captions drawn by libass.
    """
    if renderer not in RENDERERS:
        raise InputError(f"renderer {renderer!r} is not one of {', '.join(RENDERERS)}")
    if isinstance(size, str):
        if size not in NAMED_SIZES and not size.isdigit():
            raise InputError(f"eval set size {size!r}: use ci, full, zones or a number of videos")
        if size not in ("ci", "zones"):
            size = NAMED_SIZES.get(size) or int(size)
    named = {"ci": _ci_set, "zones": _zones_set}
    if isinstance(size, str):
        make = named[size]
        items = make(seed) if renderer == "generator" else make(seed + LIBASS_SEED)
    elif not 1 <= size <= 500:
        raise InputError(f"eval set size must be 1..500 videos, got {size}")
    else:
        items = (
            _full_style_set(size, seed)
            if renderer == "generator"
            else _full_style_set(size, seed + LIBASS_SEED, LIBASS_FORMATS)
        )
    if renderer == "generator":
        return items
    rng = np.random.default_rng([seed, 0x1A55])
    crfs = _balanced(rng, LIBASS_CRFS, len(items))
    return [
        EvalItem(
            f"libass-{item.name}",
            dataclasses.replace(item.spec, crf=crf),
            {**item.conditions, "renderer": "libass", "crf": str(crf)},
            renderer="libass",
        )
        for item, crf in zip(items, crfs)
    ]


# ------------------------------------------------------------------------------ files


def write_eval_set(items: list[EvalItem], out_dir: Path) -> list[Path]:
    """Write `name.mp4` and `name.srt` (the truth) per item and `conditions.json`;
    videos whose spec (and generator code) are unchanged since the last run are reused."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "conditions.json"
    try:
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        previous = {}
    manifest, paths = {}, []
    for item in items:
        video, truth = out_dir / f"{item.name}.mp4", out_dir / f"{item.name}.srt"
        digest = item.spec_hash
        if not (video.is_file() and truth.is_file() and previous.get(item.name, {}).get("spec_sha256") == digest):
            (write_libass_video if item.renderer == "libass" else write_video)(item.spec, video)
            write_truth_srt(item.spec, truth)
        manifest[item.name] = {
            "conditions": item.conditions,
            "spec_sha256": digest,
            "duration_s": item.spec.duration_s,
            "cues": len(item.spec.cues),
            "width": item.spec.width,
            "height": item.spec.height,
            "fps": item.spec.fps,
        }
        paths.append(video)
        # Written after every video, so an interrupted run still reuses what it finished.
        manifest_path.write_text(json.dumps({**previous, **manifest}, ensure_ascii=False, indent=1), encoding="utf-8")
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return paths
