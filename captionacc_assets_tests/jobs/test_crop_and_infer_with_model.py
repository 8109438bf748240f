"""Job 2 with the learned pair model on a real encoded video: the extents database it
publishes records the model hash, its key carries it, and its pairs decode to the cues."""

from captionacc_assets.core.dbs.extents_db import read_extents_db
from captionacc_assets.core.extents.baseline import PairPredictions
from captionacc_assets.core.extents.decode import decode_captions
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.region import Region
from captionacc_assets.jobs.crop_and_infer_caption_frame_extents import crop_and_infer_caption_frame_extents
from captionacc_assets.jobs.engines import pair_classifier
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import CaptionStyle, Cue, VideoSpec


def test_crop_and_infer_with_the_model_records_its_hash_and_finds_the_cues(tmp_path):
    spec = VideoSpec(width=854, height=480, fps=30.0, duration_s=6.0, background="moving", seed=77,
                     cues=(Cue(0.5, 2.0, "我们明天见"), Cue(2.0, 3.5, "我们后天见"), Cue(4.2, 5.5, "Good night")),
                     style=CaptionStyle(font="cjk_sans"))
    video = write_video(spec, tmp_path / "in.mp4")
    store = LocalStorageResource(root=str(tmp_path / "bucket"))
    keys = VideoKeys("tenant1", "video1")
    store.put_file("tenant1/uploads/in.mp4", video)
    classifier = pair_classifier("model")

    result = crop_and_infer_caption_frame_extents(
        store, keys, "tenant1/uploads/in.mp4", zones=[Region(0.05, 0.78, 0.95, 0.98)], version=1,
        classifier=classifier, work_dir=tmp_path / "work")

    assert result.model_hash == classifier.model_hash
    assert result.caption_frame_extents_key == keys.caption_frame_extents_db(1, classifier.model_hash)
    assert f"model-{classifier.model_hash[:8]}" in result.caption_frame_extents_key
    forward, backward, meta = read_extents_db(
        store.get_file(result.caption_frame_extents_key, tmp_path / "extents.db.gz"))
    assert meta["model_hash"] == classifier.model_hash
    assert forward.shape == backward.shape == (59, 5)
    spans = [(s.start, s.end) for s in decode_captions(PairPredictions(forward, backward)) if s.state == "predicted"]
    truth = [(5, 19), (20, 34), (42, 54)]
    assert len(spans) == len(truth), spans
    for (start, end), (true_start, true_end) in zip(spans, truth):
        assert abs(start - true_start) <= 1 and abs(end - true_end) <= 1, spans
