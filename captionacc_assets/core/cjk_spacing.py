"""Where spaces go when pieces of text are joined: between words in Latin script and
Hangul, never beside Han or kana, which are written without them."""

from __future__ import annotations

from typing import Sequence


def is_cjk(char: str) -> bool:
    """Scripts written without spaces between words (Han, kana) and their punctuation.
    Hangul is not here: Korean puts spaces between words."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x2FDF  # CJK radicals
        or 0x3000 <= code <= 0x30FF  # CJK symbols and punctuation, hiragana, katakana
        or 0x3100 <= code <= 0x31FF  # bopomofo, kanbun, katakana extensions
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0xFE30 <= code <= 0xFE4F  # CJK compatibility forms
        or 0xFF00 <= code <= 0xFFEF  # halfwidth and fullwidth forms (，！？)
        or 0x20000 <= code <= 0x3FFFF  # CJK extensions B..
    )


def join_line(texts: Sequence[str]) -> str:
    """Join the pieces of one line: a space between Latin-script pieces, none where
    either side of the join is CJK."""
    out = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if out and not (is_cjk(out[-1]) or is_cjk(text[0])):
            out += " "
        out += text
    return out
