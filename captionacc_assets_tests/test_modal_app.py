"""The Modal App: its functions' settings, and their bodies run with `.local()` against moto's S3.

No Modal account exists here, so the functions run in this process through `.local()`, and the
`remote` path is checked up to Modal's client edge: `Function.from_name(app, name)` is recorded
and the call is forwarded to the same function's `.local()`.
"""

import importlib
import subprocess
import sys
from pathlib import Path

import modal
import pytest

from captionacc_assets import modal_app
from captionacc_assets.core import video
from captionacc_assets.core.errors import InputError
from captionacc_assets.core.keys import VideoKeys
from captionacc_assets.core.region import Region
from captionacc_assets.resources.compute import ModalCompute, compute_resource
from captionacc_assets.resources.s3_storage import S3StorageResource
from captionacc_assets.resources.storage import LocalStorageResource
from captionacc_assets.settings import MissingSettingError
from captionacc_assets.synthetic.generate import write_video
from captionacc_assets.synthetic.video_spec import Cue, VideoSpec
from captionacc_assets_tests.servers import s3_server

SPEC = VideoSpec(
    width=480, height=270, fps=25.0, duration_s=3.0, background="textured", seed=5, cues=(Cue(0.3, 2.5, "Good night"),)
)
KEYS = VideoKeys(tenant="acme", video="clip1")
# One zone of acme's clip1, as a Modal call passes it (for calls that must fail before any IO).
ACME_ZONES = [
    {
        "zone": 0,
        "placement": "bottom",
        "region": [0, 0.7, 1, 1],
        "caption_frame_extents_key": "acme/server/videos/clip1/caption_frame_extents/v1_model-x.db.gz",
    }
]


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


def test_jobs_are_declared_with_a_gpu_only_where_one_is_used_and_their_own_images(monkeypatch):
    declared = {}
    original = modal.App.cls

    def recording(self, **options):
        decorate = original(self, **options)

        def wrapper(user_cls):
            declared[user_cls.__name__] = options
            return decorate(user_cls)

        return wrapper

    monkeypatch.setattr(modal.App, "cls", recording)
    importlib.reload(modal_app)
    try:
        assert {name: (o["gpu"], o["timeout"], o["retries"]) for name, o in declared.items()} == {
            "FrameOcr": (None, 1800, 0),  # RapidOCR: CPU onnxruntime
            "CaptionFrameExtents": (None, 3600, 0),  # decode + VP9 + the extents model on onnxruntime
            "CaptionOcr": (None, 300, 0),
        }
        assert declared["FrameOcr"]["image"] is declared["CaptionOcr"]["image"] is modal_app.ocr_image
        assert declared["CaptionFrameExtents"]["image"] is modal_app.extents_image
        for options in declared.values():
            assert isinstance(options["image"], modal.Image) and options["cpu"] >= 1
            assert [s for s in options["secrets"]] and all(isinstance(s, modal.Secret) for s in options["secrets"])
        assert modal_app.CLASS_NAMES == {name: cls for name, cls in zip(modal_app.JOBS, declared)}
    finally:
        monkeypatch.undo()
        importlib.reload(modal_app)


WITHOUT_DAGSTER = """
import importlib, importlib.metadata, json, sys
sys.modules["dagster"] = None  # `import dagster` now raises ImportError, as in a venv without it
import captionacc_assets.modal_app as modal_app
jobs = {"ocr": ["captionacc_assets.compute.extract_frames_and_ocr", "captionacc_assets.compute.caption_ocr",
                "captionacc_assets.compute.requested_caption_ocr", "captionacc_assets.core.ocr.rapid",
                "captionacc_assets.core.ocr.google_vision"],
        "extents": ["captionacc_assets.compute.crop_and_infer_caption_frame_extents",
                    "captionacc_assets.compute.engines"]}
before = set(sys.modules)
for job, modules in jobs.items():
    for module in modules + ["captionacc_assets.objectstore.s3", "boto3", "boto3.s3.transfer", "botocore.config"]:
        importlib.import_module(module)
sys.modules["captionacc_assets.compute.engines"].pair_classifier("model")  # what the extents container loads
imported = {name.split(".")[0] for name, module in sys.modules.items() if module is not None}
dists = importlib.metadata.packages_distributions()
print(json.dumps({"dagster": sys.modules["dagster"] is None,
                  "imported": sorted({d for top in imported for d in dists.get(top, [])})}))
"""


def test_the_app_and_its_jobs_import_without_dagster_and_their_images_hold_what_they_import():
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", WITHOUT_DAGSTER], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["dagster"] is True  # nothing replaced the blocked module
    imported = set(report["imported"]) - {"captionacc-assets"}
    assert not {d for d in imported if d.startswith("dagster")}
    # Each third-party distribution the jobs import is in an image (its own deps come with it).
    direct = {"av", "numpy", "pillow", "opencv-python-headless", "onnxruntime", "torch", "boto3", "google-cloud-vision"}
    assert direct & imported == direct & set(modal_app.OCR_PACKAGES + modal_app.EXTENTS_PACKAGES)
    assert "torch" not in imported and "onnxruntime" in modal_app.EXTENTS_PACKAGES
    assert not [p for p in modal_app.OCR_PACKAGES + modal_app.EXTENTS_PACKAGES if "dagster" in p]


def test_a_container_loads_its_ocr_engine_once_at_enter(monkeypatch):
    from captionacc_assets.compute import engines

    built = []
    original = engines.ocr_engine
    monkeypatch.setattr(engines, "ocr_engine", lambda name, **kw: built.append((name, kw)) or original(name, **kw))
    job = modal_app.CaptionOcr()
    with pytest.raises(InputError, match="outside tenant"):  # the call fails after enter, before any IO
        job.caption_ocr.local(
            storage={"bucket": "unused"},
            tenant="other",
            video="clip1",
            version=1,
            zones=ACME_ZONES,
        )
    with pytest.raises(InputError, match="outside tenant"):
        job.caption_ocr.local(
            storage={"bucket": "unused"},
            tenant="other",
            video="clip1",
            version=1,
            zones=ACME_ZONES,
        )
    assert built == [("rapidocr", {})]  # at enter, once for two calls on the same container
    frames = modal_app.FrameOcr()
    with pytest.raises(InputError, match="outside tenant"):
        frames.extract_frames_and_ocr.local(
            storage={"bucket": "unused"},
            tenant="other",
            video="clip1",
            video_key="acme/client/videos/clip1/video.mp4",
            ocr_engine="rapidocr",
        )
    assert built[1:] == [("rapidocr", {"max_side": engines.FULL_FRAME_MAX_SIDE})]


def test_each_function_runs_locally_against_s3(store, uploaded, tmp_path):
    location = store.location
    assert set(location) == {"bucket", "endpoint_url", "region"}  # where, never credentials
    extract = modal_app.local_function("extract_frames_and_ocr").local(
        storage=location, tenant="acme", video="clip1", video_key=uploaded, ocr_engine="rapidocr"
    )
    assert store.exists(KEYS.layout_db) and store.exists(KEYS.raw_ocr_db)
    assert set(extract["keys_written"]) >= {KEYS.layout_db, KEYS.raw_ocr_db}

    # The `video` asset's probe, passed as a dict (as Modal serializes it): the job does not probe again.
    probe = video.probe_video(tmp_path / "clip.mp4")
    probed = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(video, "probe_video", lambda path, **kw: probed.append(path) or probe)
        crop = modal_app.local_function("crop_and_infer_caption_frame_extents").local(
            storage=location,
            tenant="acme",
            video="clip1",
            video_key=uploaded,
            zones=[[0.0, 0.7, 1.0, 1.0]],
            version=1,
            extents_model="baseline",
            probe=probe.as_dict(),
        )
    assert probed == [] and crop["frame_count"] == probe.frame_count == 30
    assert store.exists(crop["caption_frame_extents_key"])
    assert store.exists(KEYS.cropped_frames_prefix(1) + "manifest.json")

    captions = modal_app.local_function("caption_ocr").local(
        storage=location,
        tenant="acme",
        video="clip1",
        version=1,
        zones=[
            {
                "zone": 0,
                "placement": "bottom",
                "region": [0.0, 0.7, 1.0, 1.0],
                "caption_frame_extents_key": crop["caption_frame_extents_key"],
            }
        ],
        ocr_engine="rapidocr",
    )
    assert [c["text"] for c in captions["captions"] if c.get("text")] == ["Good night"]
    assert store.content_type(KEYS.captions_db) == "application/gzip"

    # A person's request: just the spans asked for, text and confidence back, nothing written.
    published = store.get_bytes(KEYS.captions_db)
    (caption,) = [c for c in captions["captions"] if c.get("text")]
    span = [caption["start_frame_index"], caption["end_frame_index"]]
    answer = modal_app.local_function("caption_ocr").local(
        storage=location, tenant="acme", video="clip1", version=1, ocr_engine="rapidocr", spans=[span, [0, 1]]
    )
    assert [(s["start"], s["end"], s["text"]) for s in answer["spans"]] == [(*span, "Good night"), (0, 1, "")]
    assert answer["spans"][0]["confidence"] > 0.5 and answer["frame_count"] == 30
    assert store.get_bytes(KEYS.captions_db) == published
    through_compute = ModalCompute(modal_call="local").caption_ocr_spans(store, KEYS, 1, [tuple(span)], tmp_path)
    assert [s["text"] for s in through_compute.spans] == ["Good night"]


def test_remote_calls_go_to_the_deployed_app_with_keys_not_bytes(store, uploaded, tmp_path, monkeypatch):
    calls = []

    class Deployed:  # Modal's client edge: what `Cls.from_name` returns, forwarding to the same body
        def __init__(self, app, cls_name):
            self.app, self.cls_name = app, cls_name

        def __call__(self):
            return self

        def __getattr__(self, method):
            local = getattr(modal_app.JOBS[method](), method)

            class Method:
                @staticmethod
                def remote(**kwargs):
                    calls.append((self.app, self.cls_name, method, kwargs))
                    return local.local(**kwargs)

            return Method

    monkeypatch.setattr(modal.Cls, "from_name", staticmethod(lambda app, name: Deployed(app, name)))
    compute = ModalCompute(modal_app="captionacc-staging")
    result = compute.extract_frames_and_ocr(store, KEYS, uploaded, tmp_path)
    assert result.layout and result.keys_written
    ((app, cls_name, name, kwargs),) = calls
    assert (app, cls_name, name) == ("captionacc-staging", "FrameOcr", "extract_frames_and_ocr")
    assert kwargs == {
        "storage": store.location,
        "tenant": "acme",
        "video": "clip1",
        "video_key": uploaded,
        "ocr_engine": "rapidocr",
        "probe": None,  # no stored probe given: the job probes the file itself
    }


def test_modal_compute_needs_s3_storage(tmp_path):
    compute = ModalCompute(modal_call="local")
    with pytest.raises(ValueError, match="storage must be S3"):
        compute.crop_and_infer_caption_frame_extents(
            LocalStorageResource(root=str(tmp_path)), KEYS, KEYS.video_file("mp4"), [Region(0, 0.7, 1, 1)], 1, tmp_path
        )
    with pytest.raises(ValueError, match="CAPTIONACC_COMPUTE"):
        compute_resource("lambda")
    with pytest.raises(ValueError, match="CAPTIONACC_MODAL_CALL"):
        compute_resource("modal", modal_call="carrier-pigeon")


def test_a_function_refuses_keys_of_another_tenant_and_missing_credentials(store, uploaded, monkeypatch):
    with pytest.raises(InputError, match="outside tenant"):
        modal_app.local_function("extract_frames_and_ocr").local(
            storage=store.location, tenant="other", video="clip1", video_key=uploaded, ocr_engine="rapidocr"
        )
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(MissingSettingError, match="AWS_SECRET_ACCESS_KEY"):
        modal_app.local_function("caption_ocr").local(
            storage=store.location,
            tenant="acme",
            video="clip1",
            version=1,
            zones=ACME_ZONES,
            ocr_engine="rapidocr",
        )


def test_the_module_names_its_deploy_command():
    assert "modal deploy -m captionacc_assets.modal_app" in Path(modal_app.__file__).read_text()


def test_the_model_hash_a_run_process_needs_comes_without_torch(tmp_path):
    """A captions-only run names its extents database by the model's hash; in Modal mode the run
    process must get it without loading the model (no torch)."""
    code = (
        "import sys\nfrom captionacc_assets.resources.compute import ModalCompute\n"
        "print(ModalCompute().model_hash, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    model_hash, torch_loaded = done.stdout.split()
    from captionacc_assets.compute.engines import pair_classifier

    assert (model_hash, torch_loaded) == (pair_classifier("model").model_hash, "False")
