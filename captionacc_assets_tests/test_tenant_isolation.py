"""A catalog row that points into another tenant's folder is refused before anything is read.

The web app writes `videos` rows; a crafted or buggy one must not let one tenant's run read
(or copy the probe of) another tenant's video. `register_upload` checks keys, so the crafted
row is written straight into the table, as a compromised web app could.
"""

from captionacc_assets.resources.catalog import utc_now
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec

SPEC = VideoSpec(
    width=320, height=180, fps=10.0, duration_s=2.0, background="flat", seed=1, cues=(Cue(0.2, 1.5, "secret"),)
)


def test_a_row_reaching_into_another_tenant_is_refused_first_and_the_refusal_recorded(platform, tmp_path):
    victim = platform.upload(write_video(SPEC, tmp_path / "victim.mp4"), "victim")
    victim_key = platform.catalog.require_video(victim)["storage_key"]
    platform.catalog.upsert_tenant("evil")
    videos = platform.catalog.tables.videos
    with platform.catalog.engine().begin() as conn:
        conn.execute(
            videos.insert().values(
                id="evil-video",
                tenant_id="evil",
                storage_key=victim_key,
                display_path="mine.mp4",
                size_bytes=1,
                uploaded_at=utc_now(),
                layout_status="wait",
                boundaries_status="wait",
                text_status="wait",
            )
        )
    platform.instance.add_dynamic_partitions("videos", ["evil-video"])

    run = platform.initial_processing("evil-video", trigger="ui")

    assert not run.success
    row = platform.catalog.require_video("evil-video")
    assert row["layout_status"] == "error"
    assert "outside tenant 'evil'" in row["layout_error_details"]["message"]
    # Nothing of the victim's video reached evil's row, and nothing was written under either tenant for it.
    assert (row["width"], row["height"], row["duration_seconds"]) == (None, None, None)
    assert platform.storage.list_keys("evil/") == []
    assert platform.storage.list_keys(f"victim/client/videos/{victim}/") == [victim_key]
    assert platform.catalog.require_video(victim)["layout_status"] == "wait"
