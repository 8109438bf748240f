"""One probe per video: the `video` asset probes the upload, and the compute jobs of initial
processing and of the approved run take that probe from its materialization instead of probing again."""

import dagster as dg

from captionacc_assets.core import video
from captionacc_assets.defs.assets import initial
from captionacc_assets.defs.stage import stored_probe
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets_tests.processed import processed_video

SPEC = VideoSpec(
    width=480, height=270, fps=25.0, duration_s=3.0, background="textured", seed=5, cues=(Cue(0.3, 2.5, "Good night"),)
)


def test_initial_processing_and_the_approved_run_probe_the_video_once(tmp_path, monkeypatch):
    probed = []
    original = video.probe_video

    def counting(path, **kwargs):
        probed.append(path)
        return original(path, **kwargs)

    monkeypatch.setattr(video, "probe_video", counting)  # what the jobs' `probe_of` and decoding call
    monkeypatch.setattr(initial, "probe_video", counting)  # the `video` asset's own
    with processed_video(tmp_path / "home", SPEC) as (platform, video_id, approved):
        assert len(probed) == 1, probed
        row = platform.catalog.get_video(video_id)
        stored = stored_probe(platform.instance, row)
        assert stored == original(probed[0]) and stored.frame_count == 30
        assert platform.captions_committed(video_id)


def test_no_stored_probe_for_another_key_or_an_older_materialization():
    probe = video.VideoProbe(3.0, 25.0, 480, 270, "h264", 0, "mov,mp4,m4a,3gp,3g2,mj2", 30, size_bytes=1234)
    row = {"id": "clip1", "storage_key": "acme/client/videos/clip1/video.mp4"}
    with dg.instance_for_test() as instance:
        assert stored_probe(instance, row) is None  # never materialized: the job probes

        def report(**metadata):
            instance.report_runless_asset_event(dg.AssetMaterialization("video", partition="clip1", metadata=metadata))

        report(storage_key=row["storage_key"], **probe.as_dict())
        assert stored_probe(instance, row) == probe
        assert stored_probe(instance, {**row, "id": "clip2"}) is None  # another partition
        assert stored_probe(instance, {**row, "storage_key": "acme/client/videos/clip1/video.mkv"}) is None
        older = {k: v for k, v in probe.as_dict().items() if k != "size_bytes"}  # before probes had a size
        report(storage_key=row["storage_key"], **older)
        assert stored_probe(instance, row) is None
