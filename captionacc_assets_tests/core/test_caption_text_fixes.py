"""Caption text in canonical form, and the recognizer's systematic errors undone."""

from captionacc_assets.core.caption_text_fixes import (
    clean_ocr_text,
    normalize_caption_text,
    restore_inverted_exclamation,
)


def test_normalize_keeps_cjk_punctuation_and_collapses_whitespace():
    assert normalize_caption_text("  你好，\u3000世界！ ") == "你好， 世界！"
    assert normalize_caption_text("ＡＢＣ　１２３") == "ABC 123"
    assert normalize_caption_text("第一行 \n\n  second\t line \r\n") == "第一行\nsecond line"
    assert normalize_caption_text("   ") == ""


def test_spanish_exclamations_get_back_their_opening_mark():
    # RapidOCR's alphabet has "¿" but no "¡": the opening mark is always lost.
    assert (
        restore_inverted_exclamation("Vámonos ahora mismo!\nNo sé qué decir.")
        == "¡Vámonos ahora mismo!\nNo sé qué decir."
    )
    assert restore_inverted_exclamation("Cuidado con el perro!") == "¡Cuidado con el perro!"
    assert restore_inverted_exclamation("Hola! ¿Qué tal?") == "¡Hola! ¿Qué tal?"
    assert restore_inverted_exclamation("Sí, claro. Vamos!") == "Sí, claro. ¡Vamos!"
    # ... or it is read as a "j" glued to the capital that follows it.
    assert restore_inverted_exclamation("Me encanta este lugar.\njFeliz cumpleaños, mamá!") == (
        "Me encanta este lugar.\n¡Feliz cumpleaños, mamá!"
    )
    assert restore_inverted_exclamation("jCuidado con el perro!") == "¡Cuidado con el perro!"
    # That "j" is the mark even where nothing else looks Spanish (a word space lost: "conel").
    assert restore_inverted_exclamation("jCuidado conel perro!") == "¡Cuidado conel perro!"
    assert restore_inverted_exclamation("Stop.\njVamos!") == "Stop.\n¡Vamos!"
    assert restore_inverted_exclamation("jamás, mi amor!") == "¡jamás, mi amor!"  # a real "j" stays
    for unchanged in ("¡Feliz cumpleaños, mamá!", "Follow me, quickly!", "Turn left now!", "¿Y?", "快点！", "Olé"):
        assert restore_inverted_exclamation(unchanged) == unchanged


def test_clean_ocr_text_fixes_shadowed_periods_but_keeps_ellipses():
    assert clean_ocr_text("He never came back..") == "He never came back."
    assert clean_ocr_text("Wait... what?") == "Wait... what?"
    assert clean_ocr_text("Go.!") == "Go!"  # the shadow of the mark's dot
    assert clean_ocr_text("Really.?") == "Really?"
    assert clean_ocr_text("Wait...!") == "Wait...!"
    assert clean_ocr_text("What?!") == "What?!"
    assert clean_ocr_text("Vamos ahora..\nNo sé.") == "Vamos ahora.\nNo sé."
    assert clean_ocr_text("Cuidado con el perro!") == "¡Cuidado con el perro!"
