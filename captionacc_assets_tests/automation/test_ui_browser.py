"""The Dagster UI as a person sees it, in a real browser (Playwright on Debian's chromium) over a
`captionacc ui` (dagster dev) that the test starts, after one ordinary session: three uploads, an
approval, a backfill from the UI, and a deletion racing that backfill.

The browser checks what the issue's user could not see: the proposed region on `layout_db`'s
partition page without a click, a video found by its file name, and no asset of the unapproved
or the deleted video marked failed. The screenshot it takes is the README's (docs/ui-layout-db.png,
rewritten when CAPTIONACC_UPDATE_SCREENSHOTS=1).
"""

import io
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import pytest
import srt
from PIL import Image

from captionacc_assets.resources.catalog import CatalogResource
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets_tests.automation.daemon import REPO, wait_for
from captionacc_assets_tests.automation.test_dagster_dev_system import (  # noqa: F401 (dagster_dev is a fixture)
    BACKFILL_ASSETS,
    BACKFILL_DONE,
    captionacc,
    dagster_dev,
    finished_backfill_status,
    graphql,
    launch_ui_backfill,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = REPO / "docs" / "ui-layout-db.png"
ASSETS = ("video", "full_frames", "raw_ocr_db", "layout_db", "layout_approval", *BACKFILL_ASSETS)
PARTITION_STATUSES = """
query { assetNodes { assetKey { path } assetPartitionStatuses {
  __typename ... on DefaultPartitionStatuses { failedPartitions materializedPartitions } } } }"""

pytestmark = pytest.mark.timeout(1500)


def spec(seed: int, *cues: Cue) -> VideoSpec:
    return VideoSpec(width=640, height=360, fps=10.0, duration_s=6.0, background="moving", cues=cues, seed=seed)


VIDEOS = {
    "approved": ("ep-approved.mp4", spec(3, Cue(0.5, 2.5, "你好世界"), Cue(3.0, 5.0, "Hello world"))),
    "unapproved": ("ep-unapproved.mp4", spec(4, Cue(1.0, 3.0, "Good night"))),
    "deleted": ("ep-deleted.mp4", spec(5, Cue(1.0, 4.0, "See you"))),
}


def failed_partitions(graphql_url: str) -> dict[str, list[str]]:
    """{asset: its failed partitions}, as the UI's asset pages read them."""
    nodes = graphql(graphql_url, PARTITION_STATUSES, {})["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n["assetPartitionStatuses"].get("failedPartitions") or [] for n in nodes}


def dismiss_welcome(page) -> None:
    """The "Join the Dagster community" dialog a fresh browser gets once."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(state="visible", timeout=5000)
        skip.click()
    except Exception:  # noqa: BLE001 - not shown this time
        pass


def small_png(data: bytes, path: Path) -> None:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS)
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def test_the_ui_shows_pictures_at_once_finds_files_and_marks_no_expected_condition_failed(dagster_dev, tmp_path):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make setup` installs it"
    env, home, tail, graphql_url = dagster_dev
    base = graphql_url.removesuffix("/graphql")
    catalog = CatalogResource(url=f"sqlite:///{home / 'catalog.sqlite'}")
    ids = {}
    for role, (name, video_spec) in VIDEOS.items():
        ids[role] = captionacc(env, "upload", str(write_video(video_spec, tmp_path / name)), "--tenant", "tenant-ui")
    wait_for(
        lambda: all(catalog.get_video(i)["layout_status"] in ("annotate", "error") for i in ids.values()),
        900,
        f"initial processing of the three uploads\n{tail()}",
        every_s=2,
    )
    assert all(catalog.get_video(i)["layout_status"] == "annotate" for i in ids.values())

    captionacc(env, "approve", ids["approved"], "--by", "editor-alice")
    wait_for(
        lambda: catalog.get_video(ids["approved"])["text_status"] in ("annotate", "error"),
        600,
        f"captions of the approved video\n{tail()}",
        every_s=2,
    )
    assert [c.content for c in srt.parse(captionacc(env, "export", ids["approved"], "--srt", "-"))] == [
        "你好世界",
        "Hello world",
    ]

    # A backfill over every video, as the UI launches it, and a deletion racing it.
    backfill_id = launch_ui_backfill(graphql_url, BACKFILL_ASSETS)
    captionacc(env, "delete", ids["deleted"])
    status = wait_for(
        lambda: finished_backfill_status(graphql_url, backfill_id),
        600,
        f"backfill {backfill_id} to finish\n{tail()}",
        every_s=2,
    )
    assert status in BACKFILL_DONE
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        runs = {
            r.tags["dagster/partition"]: r
            for r in instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        }
        assert runs[ids["approved"]].status == dg.DagsterRunStatus.SUCCESS
        assert runs[ids["unapproved"]].status == dg.DagsterRunStatus.SUCCESS  # skipped: nothing to do yet
        assert all(run.status != dg.DagsterRunStatus.FAILURE for run in runs.values())
        # Once the backfill is over, the deleted video's partition goes: "All" no longer includes it.
        wait_for(
            lambda: not instance.has_dynamic_partition("videos", ids["deleted"]),
            120,
            f"the deleted video's partition to be removed\n{tail()}",
        )
    finally:
        instance.dispose()
    failed = failed_partitions(graphql_url)
    assert set(ASSETS) <= set(failed) and not any(failed[asset] for asset in ASSETS), failed

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.set_default_timeout(60_000)

        # 1. The proposed region shows on layout_db's partition page without a click.
        page.goto(f"{base}/assets/layout_db?view=partitions&partition={ids['approved']}")
        dismiss_welcome(page)
        region = page.locator('img[alt="proposed caption region"]')
        region.wait_for(state="visible")
        assert page.locator('img[alt="caption region close-up"]').is_visible()
        assert region.evaluate("img => img.complete && img.naturalWidth > 0")
        assert page.get_by_text("[Show Markdown]").count() == 0
        shot = tmp_path / "ui-layout-db.png"
        small_png(page.screenshot(), shot)
        if os.environ.get("CAPTIONACC_UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(shot, SCREENSHOT)

        # 2. A video is found by its file name: the Runs page filtered by the file_name tag.
        page.goto(f"{base}/runs?q%5B%5D={quote('tag:file_name=ep-unapproved.mp4', safe='')}")
        page.get_by_text(f"partition: {ids['unapproved']}").first.wait_for(state="visible")
        listed = page.inner_text("body")
        assert ids["approved"] not in listed and ids["deleted"] not in listed

        # ... and followed through its lineage from its summary on the `video` asset.
        page.goto(f"{base}/assets/video?view=partitions&partition={ids['approved']}")
        page.get_by_text("ep-approved.mp4").first.wait_for(state="visible")
        page.get_by_role("link", name="captions_db", exact=True).click()
        page.locator('img[alt="caption timeline"]').wait_for(state="visible")
        assert f"partition={ids['approved']}" in page.url

        # 3. After the backfill, no asset shows a failed partition (the unapproved and deleted videos).
        for asset in ASSETS:
            page.goto(f"{base}/assets/{asset}?view=partitions")
            page.get_by_text("Failed (0)").wait_for(state="visible")
        browser.close()
