"""Job 3 on request, on a real rendered video: the editor stand-in moves a caption's end and asks
for its OCR; only that row's OCR columns change, to the text of the new span's median, and an
edit made while the OCR runs survives."""

import gzip
from functools import partial

import pytest

from captionacc_assets.core.dbs.captions_db import SCHEMA_VERSION
from captionacc_assets.core.dbs.sqlite_artifact import edit_gzip_db
from captionacc_assets.core.dbs.stored_captions import OCR_COLUMNS
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.region import Region
from captionacc_assets.defs.editor_locks import SERVER_HOLDER, editor_lock
from captionacc_assets.compute.caption_ocr import caption_ocr
from captionacc_assets.compute.crop_and_infer_caption_frame_extents import crop_and_infer_caption_frame_extents
from captionacc_assets.compute.engines import ocr_engine, pair_classifier
from captionacc_assets.compute.requested_caption_ocr import OcrRequest, answer_requests, read_spans
from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets_tests.caption_reading import span_median_text
from captionacc_assets_tests.editor import EditorStandIn, stored_captions_table

# "Good night" for 1 s, then "Hello world" for 4 s right after it.
SPEC = VideoSpec(
    width=480,
    height=270,
    fps=10.0,
    duration_s=7.0,
    background="textured",
    seed=11,
    cues=(Cue(1.0, 2.0, "Good night"), Cue(2.0, 6.0, "Hello world")),
)
KEYS = VideoKeys(tenant="acme", video="clip1")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The video cropped, inferred and captioned by the real jobs, in local storage and a catalog."""
    root = tmp_path_factory.mktemp("requested-ocr")
    store = LocalStorageResource(root=str(root / "bucket"))
    store.put_file(KEYS.video_file("mp4"), write_video(SPEC, root / "clip.mp4"))
    crop = crop_and_infer_caption_frame_extents(
        store,
        KEYS,
        KEYS.video_file("mp4"),
        zones=[Region(0.0, 0.7, 1.0, 1.0)],
        version=1,
        classifier=pair_classifier("model"),
        work_dir=root / "crop",
    )
    engine = ocr_engine("rapidocr")
    caption_ocr(
        store, KEYS, version=1, zones=crop.zone_provenance(), engine=engine, work_dir=root / "ocr", video_id=KEYS.video
    )
    catalog = CatalogResource(url=f"sqlite:///{root / 'catalog.sqlite'}")
    catalog.ensure_schema()
    catalog.register_upload(
        video_id=KEYS.video, tenant_id=KEYS.tenant, storage_key=KEYS.video_file("mp4"), display_path=None, size_bytes=1
    )
    return store, catalog, engine, store.get_bytes(KEYS.captions_db)


@pytest.fixture
def video(published, tmp_path):
    """The published captions.db as the captions run left it, before each test's edits."""
    store, catalog, engine, pristine = published
    store.put_bytes(KEYS.captions_db, pristine)
    return store, catalog, engine, tmp_path


def caption_ids(store):
    rows, _ = stored_captions_table(store, KEYS.captions_db)
    return {r["caption_ocr"]: r["id"] for r in rows if r["caption_frame_extents_state"] != "gap"}, rows


def answer(store, catalog, engine, work, requests, read=None):
    lock = partial(editor_lock, catalog, KEYS.video, "captions", lambda _: None)
    read = read or (
        lambda zone, spans: read_spans(store, KEYS, version=1, spans=spans, engine=engine, work_dir=work / "spans")
    )
    return answer_requests(store, KEYS, requests, hold_lock=lock, read=read, work_dir=work / "answer")


def test_the_predicted_captions_are_the_two_cues(video):
    store, *_ = video
    ids, rows = caption_ids(store)
    assert set(ids) == {"Good night", "Hello world"}
    spans = {r["caption_ocr"]: (r["start_frame_index"], r["end_frame_index"]) for r in rows}
    assert abs(spans["Good night"][0] - 10) <= 1 and abs(spans["Hello world"][1] - 59) <= 1


def test_only_the_requested_rows_ocr_columns_change_to_the_new_spans_median(video):
    store, catalog, engine, work = video
    ids, _ = caption_ids(store)
    k = ids["Good night"]
    editor = EditorStandIn(catalog, store)
    request = editor.confirm_new_end(KEYS.video, k, 57, text="Good night")  # now mostly "Hello world"
    edited, edited_meta = stored_captions_table(store, KEYS.captions_db)
    assert catalog.lock_holder(KEYS.video, "captions") is None

    result = answer(store, catalog, engine, work, [OcrRequest.from_row(request)])

    after, after_meta = stored_captions_table(store, KEYS.captions_db)
    assert after_meta == edited_meta and [r["id"] for r in after] == [r["id"] for r in edited]
    for before_row, after_row in zip(edited, after):
        changed = {c for c in before_row if before_row[c] != after_row[c]}
        if before_row["id"] == k:  # processed_at has whole seconds: it may read the same
            assert {"caption_ocr", "caption_ocr_confidence"} <= changed <= set(OCR_COLUMNS), changed
        else:
            assert changed == set(), (before_row, after_row)
    row_k = next(r for r in after if r["id"] == k)
    assert (row_k["end_frame_index"], row_k["text"], row_k["caption_frame_extents_state"]) == (
        57,
        "Good night",
        "confirmed",
    )
    assert (
        row_k["caption_ocr"]
        == "Hello world"
        == span_median_text(store, KEYS, 1, (row_k["start_frame_index"], 57), engine)
    )
    assert row_k["caption_ocr_status"] == "completed" and row_k["caption_ocr_confidence"] > 0.5
    assert row_k["caption_ocr_processed_at"]
    assert (result.accepted, result.rejected, result.merged, list(result.answered)) == ([request["id"]], {}, False, [k])


def test_an_edit_made_while_the_ocr_runs_survives_it(video):
    store, catalog, engine, work = video
    ids, _ = caption_ids(store)
    editor = EditorStandIn(catalog, store, user="editor-bob")
    seen = {}

    def read_while_a_person_edits(zone, spans):
        seen["lock"] = catalog.lock_holder(KEYS.video, "captions")  # the server does not hold it while reading
        editor.edit(KEYS.video, lambda e: e.type_text(ids["Hello world"], "Hello, world!"))
        return read_spans(store, KEYS, version=1, spans=spans, engine=engine, work_dir=work / "spans")

    result = answer(
        store, catalog, engine, work, [OcrRequest(1, caption_ids=[ids["Good night"]])], read=read_while_a_person_edits
    )
    assert seen["lock"] is None and result.merged
    after = {r["id"]: r for r in stored_captions_table(store, KEYS.captions_db)[0]}
    assert after[ids["Hello world"]]["text"] == "Hello, world!"  # the edit made meanwhile is there
    assert (
        after[ids["Good night"]]["caption_ocr"] == "Good night" and after[ids["Good night"]]["caption_ocr_processed_at"]
    )
    assert catalog.lock_holder(KEYS.video, "captions") is None


def test_a_caption_moved_while_its_ocr_ran_gets_no_stale_text(video):
    store, catalog, engine, work = video
    ids, _ = caption_ids(store)
    k = ids["Good night"]
    editor = EditorStandIn(catalog, store)

    def read_while_the_caption_moves(zone, spans):
        editor.edit(KEYS.video, lambda e: e.move_end(k, 40))
        return read_spans(store, KEYS, version=1, spans=spans, engine=engine, work_dir=work / "spans")

    result = answer(store, catalog, engine, work, [OcrRequest(1, caption_ids=[k])], read=read_while_the_caption_moves)
    after = stored_captions_table(store, KEYS.captions_db)[0]
    row_k = next(r for r in after if r["id"] == k)
    assert result.answered == {} and result.moved == {k: (row_k["start_frame_index"], 40)}
    assert row_k["caption_ocr"] == "Good night"  # the old reading stays: no text of a span it no longer has


def test_bad_requests_are_rejected_with_reasons_and_change_nothing(video):
    store, catalog, engine, work = video
    ids, rows = caption_ids(store)
    n = SPEC.frame_count
    before = store.get_bytes(KEYS.captions_db)
    bad = [
        OcrRequest(1, caption_ids=[999]),
        OcrRequest(2, frame_spans=[(60, n + 5)]),
        OcrRequest(3, frame_spans=[(-1, 4)]),
        OcrRequest(4, frame_spans=[(11, 12)]),
    ]
    with pytest.raises(InputError) as raised:
        answer(store, catalog, engine, work, bad)
    message = str(raised.value)
    assert "caption id 999 does not exist" in message and f"outside the video's frames [0, {n})" in message
    assert "no caption spans exactly [11, 12]" in message
    assert store.get_bytes(KEYS.captions_db) == before

    good_span = next((r["start_frame_index"], r["end_frame_index"]) for r in rows if r["id"] == ids["Hello world"])
    result = answer(store, catalog, engine, work, [bad[0], OcrRequest(5, frame_spans=[good_span])])
    assert result.accepted == [5] and list(result.rejected) == [1] and list(result.answered) == [ids["Hello world"]]


@pytest.mark.parametrize("damage", ["corrupt", "newer_schema", "missing"])
def test_a_captions_db_that_cannot_be_rewritten_safely_is_left_alone(video, damage):
    store, catalog, engine, work = video
    ids, _ = caption_ids(store)
    if damage == "corrupt":
        store.put_bytes(KEYS.captions_db, gzip.compress(b"SQLite format 3\x00" + b"\x07" * 3000))
    elif damage == "newer_schema":
        path = store.local_path(KEYS.captions_db)
        edit_gzip_db(
            path, path, lambda c: c.execute("UPDATE database_metadata SET schema_version = ?", (SCHEMA_VERSION + 1,))
        )
    else:
        store.local_path(KEYS.captions_db).unlink()
    before = store.get_bytes(KEYS.captions_db) if damage != "missing" else None
    expected = {"corrupt": "is corrupt", "newer_schema": "newer than", "missing": "has no captions yet"}[damage]
    with pytest.raises(InputError, match=expected):
        answer(store, catalog, engine, work, [OcrRequest(1, caption_ids=[ids["Good night"]])])
    assert (store.get_bytes(KEYS.captions_db) if damage != "missing" else None) == before
    assert catalog.lock_holder(KEYS.video, "captions") is None  # the lock is given back on failure too


def test_the_server_lock_is_held_while_reading_and_publishing(video):
    store, catalog, engine, work = video
    ids, _ = caption_ids(store)
    holders = []

    class WatchedStore:
        def __getattr__(self, name):
            return getattr(store, name)

        def get_file(self, key, dest):
            holders.append(catalog.lock_holder(KEYS.video, "captions"))
            return store.get_file(key, dest)

    lock = partial(editor_lock, catalog, KEYS.video, "captions", lambda _: None)
    answer_requests(
        WatchedStore(),
        KEYS,
        [OcrRequest(1, caption_ids=[ids["Good night"]])],
        hold_lock=lock,
        read=lambda zone, spans: read_spans(
            store, KEYS, version=1, spans=spans, engine=engine, work_dir=work / "spans"
        ),
        work_dir=work / "answer",
    )
    assert holders and set(holders) == {SERVER_HOLDER}
