"""Joining pieces of a line: spaces in Latin script and Hangul, none beside Han or kana."""

from captionacc_assets.core.cjk_spacing import is_cjk, join_line


def test_pieces_join_with_spaces_except_beside_cjk():
    assert join_line(["你好，", "世界"]) == "你好，世界"
    assert join_line(["Hello,", "world"]) == "Hello, world"
    assert join_line(["第3集", "Episode"]) == "第3集Episode"
    assert join_line(["안녕하세요", "여러분"]) == "안녕하세요 여러분"  # Korean keeps its spaces


def test_is_cjk_covers_han_kana_and_fullwidth_punctuation_but_not_hangul():
    assert all(is_cjk(c) for c in "你好かなカナ，！")
    assert not any(is_cjk(c) for c in "aZ9,!안")
