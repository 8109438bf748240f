"""A person's box labels in layout.db survive a new OCR pass over the same frames."""

from captionacc_assets.core.dbs.layout_db import (
    LabeledBox,
    match_person_labels,
    read_person_labels,
    write_layout_db,
)
from captionacc_assets.core.dbs.sqlite_artifact import edit_gzip_db, open_gzip_db
from captionacc_assets.core.layout import LayoutProposal
from captionacc_assets.core.ocr.engine import OcrBox
from captionacc_assets.core.region import Region

FRAMES = [
    (0, [OcrBox("你好，世界", 0.97, 0.30, 0.85, 0.70, 0.92), OcrBox("LOGO", 0.9, 0.02, 0.02, 0.1, 0.06)]),
    (100, [OcrBox("Hello there", 0.88, 0.25, 0.84, 0.75, 0.93)]),
]
PROPOSAL = LayoutProposal(
    region=Region(0.05, 0.78, 0.95, 0.98),
    anchor="center",
    confidence=0.8,
    vertical_center=0.885,
    box_height=0.08,
    line_count=1,
    box_labels={(0, 0): ("in", 0.93), (0, 1): ("in", 0.6), (100, 0): ("in", 0.9)},
)


def test_labels_a_person_set_are_read_back_and_matched_to_the_boxes_of_a_new_pass(tmp_path):
    published = tmp_path / "layout.db.gz"
    write_layout_db(published, FRAMES, PROPOSAL, frame_width=1280, frame_height=720)
    assert read_person_labels(published) == []
    # The person says the logo is not caption text, and the caption is.
    edit_gzip_db(
        published,
        published,
        lambda c: c.executescript(
            "UPDATE boxes SET label = 'out', label_updated_at = '2026-01-01 10:00:00' WHERE text = 'LOGO';"
            "UPDATE boxes SET label = 'in', label_updated_at = '2026-01-01 10:01:00' WHERE frame_index = 100;"
        ),
    )
    labeled = read_person_labels(published)
    assert [(b.frame_index, b.text, b.label) for b in labeled] == [(0, "LOGO", "out"), (100, "Hello there", "in")]

    # Another pass: boxes found in another order, slightly moved, one read differently, one new.
    again = [
        (0, [OcrBox("LOG0", 0.8, 0.021, 0.019, 0.101, 0.061), OcrBox("你好，世界", 0.97, 0.30, 0.85, 0.70, 0.92)]),
        (100, [OcrBox("Hello there", 0.9, 0.26, 0.84, 0.74, 0.93), OcrBox("sign", 0.5, 0.5, 0.1, 0.6, 0.2)]),
    ]
    carried = match_person_labels(labeled, again)
    assert carried == {(0, 0): ("out", "2026-01-01 10:00:00"), (100, 0): ("in", "2026-01-01 10:01:00")}
    rewritten = tmp_path / "again.db.gz"
    write_layout_db(rewritten, again, PROPOSAL, frame_width=1280, frame_height=720, person_labels=carried)
    with open_gzip_db(rewritten) as conn:
        rows = conn.execute(
            "SELECT frame_index, box_index, label, label_updated_at, predicted_label FROM boxes"
            " ORDER BY frame_index, box_index"
        ).fetchall()
    assert [tuple(r) for r in rows] == [
        (0, 0, "out", "2026-01-01 10:00:00", "in"),
        (0, 1, None, None, "in"),
        (100, 0, "in", "2026-01-01 10:01:00", "in"),
        (100, 1, None, None, None),
    ]


def test_a_label_goes_to_one_box_only_and_never_to_a_box_elsewhere():
    labeled = [
        LabeledBox(
            frame_index=0, left=0.1, top=0.1, right=0.3, bottom=0.2, text="A", label="out", label_updated_at=None
        )
    ]
    two_copies = [(0, [OcrBox("A", 1, 0.1, 0.1, 0.3, 0.2), OcrBox("A", 1, 0.1, 0.1, 0.3, 0.2)])]
    assert match_person_labels(labeled, two_copies) == {(0, 0): ("out", None)}
    assert match_person_labels(labeled, [(100, [OcrBox("A", 1, 0.1, 0.1, 0.3, 0.2)])]) == {}  # another frame
    assert match_person_labels(labeled, [(0, [OcrBox("A", 1, 0.25, 0.1, 0.5, 0.2)])]) == {}  # overlaps too little
