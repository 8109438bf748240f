"""The Modal App: its functions' settings, and their bodies run with `.local()` against moto's S3.

No Modal account exists here, so the functions run in this process through `.local()`, and the
`remote` path is checked up to Modal's client edge: `Function.from_name(app, name)` is recorded
and the call is forwarded to the same function's `.local()`.
"""

import importlib
from pathlib import Path

import modal
import pytest

from captionacc_assets import modal_app
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.region import Region
from captionacc_assets.resources.compute import ComputeResource
from captionacc_assets.resources.s3_storage import S3StorageResource
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.settings import MissingSettingError
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets_tests.servers import s3_server

SPEC = VideoSpec(width=480, height=270, fps=25.0, duration_s=3.0, background="textured", seed=5,
                 cues=(Cue(0.3, 2.5, "Good night"),))
KEYS = VideoKeys(tenant="acme", video="clip1")


@pytest.fixture(scope="module")
def s3():
    with s3_server() as server:
        yield server


@pytest.fixture
def store(s3, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key)
    return S3StorageResource.from_env(bucket=s3.create_bucket(), endpoint_url=s3.endpoint_url, region=s3.region)


@pytest.fixture
def uploaded(store, tmp_path):
    key = KEYS.video_file("mp4")
    store.put_file(key, write_video(SPEC, tmp_path / "clip.mp4"))
    return key


def test_functions_are_declared_with_the_gpu_timeout_image_and_secrets_of_the_spec(monkeypatch):
    declared = {}
    original = modal.App.function

    def recording(self, **options):
        decorate = original(self, **options)

        def wrapper(fn):
            declared[fn.__name__] = options
            return decorate(fn)

        return wrapper

    monkeypatch.setattr(modal.App, "function", recording)
    importlib.reload(modal_app)
    try:
        assert {name: (o["gpu"], o["timeout"], o["retries"]) for name, o in declared.items()} == {
            "extract_frames_and_ocr": ("T4", 1800, 0),
            "crop_and_infer_caption_frame_extents": ("A10G", 3600, 0),
            "caption_ocr": ("T4", 300, 0),
        }
        for options in declared.values():
            assert isinstance(options["image"], modal.Image)
            assert [s for s in options["secrets"]] and all(isinstance(s, modal.Secret) for s in options["secrets"])
    finally:
        monkeypatch.undo()
        importlib.reload(modal_app)


def test_each_function_runs_locally_against_s3(store, uploaded, tmp_path):
    location = store.location
    assert set(location) == {"bucket", "endpoint_url", "region"}  # where, never credentials
    extract = modal_app.extract_frames_and_ocr.local(
        storage=location, tenant="acme", video="clip1", video_key=uploaded, ocr_engine="rapidocr")
    assert store.exists(KEYS.layout_db) and store.exists(KEYS.raw_ocr_db)
    assert set(extract["keys_written"]) >= {KEYS.layout_db, KEYS.raw_ocr_db}

    crop = modal_app.crop_and_infer_caption_frame_extents.local(
        storage=location, tenant="acme", video="clip1", video_key=uploaded, region=[0.0, 0.7, 1.0, 1.0],
        version=1, extents_model="baseline")
    assert store.exists(crop["caption_frame_extents_key"])
    assert store.exists(KEYS.cropped_frames_prefix(1) + "manifest.json")

    captions = modal_app.caption_ocr.local(
        storage=location, tenant="acme", video="clip1", version=1,
        extents_key=crop["caption_frame_extents_key"], ocr_engine="rapidocr")
    assert [c["text"] for c in captions["captions"] if c.get("text")] == ["Good night"]
    assert store.content_type(KEYS.captions_db) == "application/gzip"

    # A person's request: just the spans asked for, text and confidence back, nothing written.
    published = store.get_bytes(KEYS.captions_db)
    caption, = [c for c in captions["captions"] if c.get("text")]
    span = [caption["start_frame_index"], caption["end_frame_index"]]
    answer = modal_app.caption_ocr.local(storage=location, tenant="acme", video="clip1", version=1,
                                         ocr_engine="rapidocr", spans=[span, [0, 1]])
    assert [(s["start"], s["end"], s["text"]) for s in answer["spans"]] == [(*span, "Good night"), (0, 1, "")]
    assert answer["spans"][0]["confidence"] > 0.5 and answer["frame_count"] == 30
    assert store.get_bytes(KEYS.captions_db) == published
    through_compute = ComputeResource(mode="modal", modal_call="local").caption_ocr_spans(
        store, KEYS, 1, [tuple(span)], tmp_path)
    assert [s["text"] for s in through_compute.spans] == ["Good night"]


def test_remote_calls_go_to_the_deployed_app_with_keys_not_bytes(store, uploaded, tmp_path, monkeypatch):
    calls = []

    class Deployed:  # Modal's client edge: what `from_name` returns, forwarding to the same body
        def __init__(self, app, name):
            self.app, self.name = app, name

        def remote(self, **kwargs):
            calls.append((self.app, self.name, kwargs))
            return getattr(modal_app, self.name).local(**kwargs)

    monkeypatch.setattr(modal.Function, "from_name", staticmethod(lambda app, name: Deployed(app, name)))
    compute = ComputeResource(mode="modal", modal_app="captionacc-staging")
    result = compute.extract_frames_and_ocr(store, KEYS, uploaded, tmp_path)
    assert result.layout and result.keys_written
    (app, name, kwargs), = calls
    assert (app, name) == ("captionacc-staging", "extract_frames_and_ocr")
    assert kwargs == {"storage": store.location, "tenant": "acme", "video": "clip1",
                      "video_key": uploaded, "ocr_engine": "rapidocr"}


def test_modal_compute_needs_s3_storage(tmp_path):
    compute = ComputeResource(mode="modal", modal_call="local")
    with pytest.raises(ValueError, match="storage must be S3"):
        compute.crop_and_infer_caption_frame_extents(
            LocalStorageResource(root=str(tmp_path)), KEYS, KEYS.video_file("mp4"), Region(0, 0.7, 1, 1), 1, tmp_path)
    with pytest.raises(ValueError, match="CAPTIONACC_COMPUTE"):
        ComputeResource(mode="lambda").check()


def test_a_function_refuses_keys_of_another_tenant_and_missing_credentials(store, uploaded, monkeypatch):
    with pytest.raises(InputError, match="outside tenant"):
        modal_app.extract_frames_and_ocr.local(
            storage=store.location, tenant="other", video="clip1", video_key=uploaded, ocr_engine="rapidocr")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(MissingSettingError, match="AWS_SECRET_ACCESS_KEY"):
        modal_app.caption_ocr.local(storage=store.location, tenant="acme", video="clip1", version=1,
                                    extents_key="acme/server/videos/clip1/caption_frame_extents/v1_model-x.db.gz",
                                    ocr_engine="rapidocr")


def test_the_module_names_its_deploy_command():
    assert "modal deploy -m captionacc_assets.modal_app" in Path(modal_app.__file__).read_text()
