"""Caption text in canonical form, with what the recognizer gets wrong the same way
every time undone (a shadowed period, Spanish's missing "¡")."""

from __future__ import annotations

import re
import unicodedata


# Exactly two periods: the drop shadow of a "." read as a second one. ("..." stays.)
_DOUBLED_PERIOD = re.compile(r"(?<!\.)\.\.(?!\.)")
# One period glued before a "!" or "?": the shadow of the mark's dot ("Go.!"); no language
# writes it. ("Wait...!" keeps its ellipsis.)
_PERIOD_BEFORE_MARK = re.compile(r"(?<!\.)\.(?=[!?])")


# Spanish marks and common short words English does not use: enough to tell a Spanish
# caption line from an English one without a language model.
_SPANISH_LETTERS = set("ñÑáéíóúÁÉÍÓÚüÜ¿¡")
_SPANISH_WORDS = frozenset(
    "el la los las del al que qué con por para una es está están muy pero como cómo mi ya "
    "le les su sus y ni sí mañana hola gracias vamos aquí ahora".split()
)
_SENTENCE = re.compile(r"[^.!?…]*[.!?…]+|[^.!?…]+$")
_WORD = re.compile(r"\w+")


def _looks_spanish(text: str) -> bool:
    if _SPANISH_LETTERS.intersection(text):
        return True
    return any(word in _SPANISH_WORDS for word in _WORD.findall(text.casefold()))


def restore_inverted_exclamation(text: str) -> str:
    """Put back the "¡" that opens a Spanish exclamation. RapidOCR's recognizer has no
    "¡" in its alphabet (it has "¿"), so "¡Vamos!" always reads "Vamos!"; in a caption
    that looks Spanish, each sentence that ends in "!" without a "¡" gets one at its start.
    Where it read the mark as a "j" glued to a capital ("jFeliz"), which no word of any
    language starts with, that "j" is the mark, whether or not the rest looks Spanish
    (a lost word space, "conel", can hide every Spanish word of a short line). An engine
    that reads "¡" (Google Vision) is left alone: such sentences already have it."""
    if "!" not in text:
        return text
    spanish = _looks_spanish(text)
    lines = []
    for line in text.split("\n"):
        sentences = []
        for sentence in _SENTENCE.findall(line):
            body = sentence.lstrip()
            if body.endswith("!") and "¡" not in body and body[0].isalpha():
                mark_read_as_j = len(body) > 1 and body[0] == "j" and body[1].isupper()
                if mark_read_as_j or spanish:
                    sentence = sentence[: len(sentence) - len(body)] + "¡" + body[int(mark_read_as_j) :]
            sentences.append(sentence)
        lines.append("".join(sentences))
    return "\n".join(lines)


def clean_ocr_text(text: str) -> str:
    """Undo what the recognizer gets wrong the same way every time: a shadowed "."
    read as "..", a shadowed "!" or "?" read with a "." before it, and the "¡" missing
    from its alphabet."""
    return restore_inverted_exclamation(_PERIOD_BEFORE_MARK.sub("", _DOUBLED_PERIOD.sub(".", text)))


_FULLWIDTH_ALNUM = {
    code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
}
_SPACES = re.compile(r"[^\S\n]+")


def normalize_caption_text(text: str) -> str:
    """Canonical caption text: NFC, fullwidth letters/digits to ASCII, whitespace collapsed
    to single spaces, lines stripped, blank lines dropped.

    Not NFKC: that would turn CJK punctuation such as "，" and "！" into ASCII
    "," and "!", which is wrong for Chinese captions.
    """
    text = unicodedata.normalize("NFC", text).translate(_FULLWIDTH_ALNUM)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
