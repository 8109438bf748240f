"""Job 2 with the learned pair model on a real encoded video: the extents database it
publishes records the model hash, its key carries it, and its pairs decode to the cues;
with two caption zones, each gets its own extents and timeline."""

from captionacc_assets.core.dbs.captions_db import read_captions_db
from captionacc_assets.core.dbs.extents_db import read_extents_db
from captionacc_assets.core.extents.labels import PairPredictions
from captionacc_assets.core.extents.decode import decode_captions
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.region import Region
from captionacc_assets.compute.crop_and_infer_caption_frame_extents import crop_and_infer_caption_frame_extents
from captionacc_assets.compute.caption_ocr import caption_ocr
from captionacc_assets.compute.engines import ocr_engine, pair_classifier
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec


def test_crop_and_infer_with_the_model_records_its_hash_and_finds_the_cues(tmp_path):
    spec = VideoSpec(
        width=854,
        height=480,
        fps=30.0,
        duration_s=6.0,
        background="moving",
        seed=77,
        cues=(Cue(0.5, 2.0, "我们明天见"), Cue(2.0, 3.5, "我们后天见"), Cue(4.2, 5.5, "Good night")),
        style=CaptionStyle(font="cjk_sans"),
    )
    video = write_video(spec, tmp_path / "in.mp4")
    store = LocalStorageResource(root=str(tmp_path / "bucket"))
    keys = VideoKeys("tenant1", "video1")
    store.put_file("tenant1/uploads/in.mp4", video)
    classifier = pair_classifier("model")

    result = crop_and_infer_caption_frame_extents(
        store,
        keys,
        "tenant1/uploads/in.mp4",
        zones=[Region(0.05, 0.78, 0.95, 0.98)],
        version=1,
        classifier=classifier,
        work_dir=tmp_path / "work",
    )

    assert result.model_hash == classifier.model_hash
    assert result.caption_frame_extents_key == keys.caption_frame_extents_db(1, classifier.model_hash)
    assert f"model-{classifier.model_hash[:8]}" in result.caption_frame_extents_key
    forward, backward, meta = read_extents_db(
        store.get_file(result.caption_frame_extents_key, tmp_path / "extents.db.gz")
    )
    assert meta["model_hash"] == classifier.model_hash
    assert forward.shape == backward.shape == (59, 5)
    spans = [(s.start, s.end) for s in decode_captions(PairPredictions(forward, backward)) if s.state == "predicted"]
    truth = [(5, 19), (20, 34), (42, 54)]
    assert len(spans) == len(truth), spans
    for (start, end), (true_start, true_end) in zip(spans, truth):
        assert abs(start - true_start) <= 1 and abs(end - true_end) <= 1, spans


def test_a_zone_with_no_captions_yields_one_gap_row_not_an_error(tmp_path):
    """Two zones approved, captions only at the bottom: the top zone's timeline is one gap."""
    spec = VideoSpec(
        width=480,
        height=270,
        fps=10.0,
        duration_s=5.0,
        background="flat",
        seed=5,
        cues=(Cue(0.5, 2.5, "Good night"), Cue(3.0, 4.5, "See you")),
    )
    store = LocalStorageResource(root=str(tmp_path / "bucket"))
    keys = VideoKeys("tenant1", "video1")
    store.put_file(keys.video_file("mp4"), write_video(spec, tmp_path / "in.mp4"))
    zones = [Region(0.0, 0.7, 1.0, 1.0), Region(0.0, 0.0, 1.0, 0.25)]
    crop = crop_and_infer_caption_frame_extents(
        store,
        keys,
        keys.video_file("mp4"),
        zones=zones,
        version=1,
        classifier=pair_classifier("model"),
        work_dir=tmp_path / "crop",
    )
    assert [z.zone for z in crop.zones] == [0, 1] and crop.zones[1].region == zones[1].as_tuple()
    assert crop.zones[1].caption_frame_extents_key == keys.caption_frame_extents_db(1, crop.model_hash, zone=1)
    result = caption_ocr(
        store,
        keys,
        version=1,
        zones=crop.zone_provenance(),
        engine=ocr_engine("rapidocr"),
        work_dir=tmp_path / "ocr",
        video_id=keys.video,
    )
    rows = read_captions_db(store.get_file(keys.captions_db, tmp_path / "captions.db.gz"))
    assert [(r.start_frame_index, r.end_frame_index, r.state) for r in rows if r.zone == 1] == [(0, 49, "gap")]
    assert [r.caption_ocr for r in rows if r.zone == 0 and r.state != "gap"] == ["Good night", "See you"]
    assert [c["zone"] for c in result.captions] == [0, 0]
