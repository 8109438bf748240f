"""The 16/4/1 chunk pyramid: naming, planning, and a real VP9 round trip."""

import json
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from captionacc_assets.core.chunks import (
    CHUNK_FRAMES,
    _add_vp9_stream,
    _pad_even,
    ChunkPyramidWriter,
    ChunkSpec,
    chunk_level,
    chunk_name,
    chunk_start,
    iter_chunk_frames,
    plan_chunks,
    read_manifest,
)
from captionacc_assets_tests.core.video_factory import frame_color, native_frame_of, render_caption


@pytest.mark.parametrize(
    ("i", "level", "start"),
    [
        (0, 16, 0),
        (16, 16, 0),
        (511, 1, 480),
        (512, 16, 512),
        (1040, 16, 1024),
        (4, 4, 0),
        (12, 4, 0),
        (124, 4, 0),
        (128, 16, 0),
        (144, 16, 0),
        (132, 4, 128),
        (260, 4, 256),
        (1, 1, 0),
        (31, 1, 0),
        (33, 1, 32),
        (63, 1, 32),
        (95, 1, 64),
        (1001, 1, 992),
    ],
)
def test_chunk_level_and_start(i, level, start):
    assert chunk_level(i) == level
    assert chunk_start(i) == start


def test_chunk_name():
    assert chunk_name(16, 0) == "modulo_16/chunk_0000000000.webm"
    assert chunk_name(4, 128) == "modulo_4/chunk_0000000128.webm"
    assert chunk_name(1, 1234567) == "modulo_1/chunk_0001234567.webm"
    assert ChunkSpec(4, 256, (260,)).name == "modulo_4/chunk_0000000256.webm"


@pytest.mark.parametrize("n", [1, 2, 5, 16, 17, 33, 128, 517, 600, 1001, 2048])
def test_plan_puts_every_index_in_exactly_one_chunk(n):
    chunks = plan_chunks(n)
    seen = [i for chunk in chunks for i in chunk.frame_indices]
    assert sorted(seen) == list(range(n))  # every index, once
    names = [chunk.name for chunk in chunks]
    assert len(set(names)) == len(names)
    for chunk in chunks:
        span = CHUNK_FRAMES * chunk.level
        assert chunk.start % span == 0
        assert list(chunk.frame_indices) == sorted(chunk.frame_indices)
        assert all(chunk.start <= i < chunk.start + span for i in chunk.frame_indices)
        assert all(chunk_level(i) == chunk.level for i in chunk.frame_indices)
        assert chunk.name == chunk_name(chunk.level, chunk.start)
        full = [i for i in range(chunk.start, chunk.start + span) if chunk_level(i) == chunk.level]
        # Only the tail chunk of a level may be short, and only because the video ends.
        if len(chunk.frame_indices) < len(full):
            assert chunk.start + span > n


def test_plan_includes_tail_chunks():
    chunks = {(c.level, c.start): c.frame_indices for c in plan_chunks(600)}
    assert chunks[(16, 512)] == tuple(range(512, 600, 16))
    assert chunks[(4, 512)] == tuple(i for i in range(516, 600, 4) if i % 16)
    assert chunks[(1, 576)] == tuple(i for i in range(577, 600) if i % 4)
    assert chunks[(16, 0)] == tuple(range(0, 512, 16))  # a full level-16 chunk holds 32 frames
    assert len(chunks[(4, 0)]) == len(chunks[(1, 0)]) == 24
    assert plan_chunks(1) == [ChunkSpec(16, 0, (0,))]
    assert plan_chunks(0) == []


def numbered_crop(index: int, width: int, height: int) -> np.ndarray:
    return np.full((height, width, 3), frame_color(index), np.uint8)


def count_frames(path) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp9"
        assert stream.average_rate == 10
        return sum(1 for _ in container.decode(stream))


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory):
    """70 odd-sized (101x33) crops whose color encodes their index."""
    out_dir = tmp_path_factory.mktemp("chunks") / "cropped_frames_v1"
    n, width, height = 70, 101, 33
    writer = ChunkPyramidWriter(out_dir, n)
    for i in range(n):
        writer.add(i, numbered_crop(i, width, height))
    manifest = writer.close()
    return out_dir, manifest, n, width, height


def test_manifest_describes_every_chunk(pyramid):
    out_dir, manifest, n, width, height = pyramid
    assert read_manifest(out_dir / "manifest.json") == manifest
    assert json.loads((out_dir / "manifest.json").read_text()) == manifest
    assert manifest["schema_version"] == 1
    assert manifest["frame_rate_hz"] == 10
    assert manifest["frame_count"] == n
    assert (manifest["width"], manifest["height"]) == (width, height)
    assert (manifest["encoded_width"], manifest["encoded_height"]) == (102, 34)
    assert manifest["chunks"] == [
        {"name": c.name, "level": c.level, "start": c.start, "frame_indices": list(c.frame_indices)}
        for c in plan_chunks(n)
    ]
    assert [c["name"] for c in manifest["chunks"]] == [
        "modulo_16/chunk_0000000000.webm",
        "modulo_4/chunk_0000000000.webm",
        "modulo_1/chunk_0000000000.webm",
        "modulo_1/chunk_0000000032.webm",
        "modulo_1/chunk_0000000064.webm",
    ]


def test_each_chunk_file_holds_its_frames_in_order(pyramid):
    out_dir, manifest, *_ = pyramid
    for chunk in manifest["chunks"]:
        path = out_dir / chunk["name"]
        assert path.is_file()
        assert count_frames(path) == len(chunk["frame_indices"])
        with av.open(str(path)) as container:
            frames = list(container.decode(video=0))
        assert [f.pts * f.time_base for f in frames] == [Fraction(k, 10) for k in range(len(frames))]
        assert [native_frame_of(f.to_ndarray(format="rgb24")) for f in frames] == chunk["frame_indices"]


def test_round_trip_pixels_and_order(pyramid):
    out_dir, manifest, n, width, height = pyramid
    frames = list(iter_chunk_frames(out_dir, manifest, range(n)))
    assert [i for i, _ in frames] == list(range(n))
    for i, image in frames:
        assert image.shape == (height, width, 3)  # padding cropped off
        assert np.abs(image.astype(int) - numbered_crop(i, width, height)).mean() < 3
        assert native_frame_of(image) == i


def test_reading_a_few_frames_opens_only_their_chunks(pyramid, tmp_path):
    out_dir, manifest, n, width, height = pyramid
    # Copy only the chunks that hold 4, 33 and 65: the reader must not need the others.
    wanted = [65, 4, 33]
    for name in {chunk_name(chunk_level(i), chunk_start(i)) for i in wanted}:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((out_dir / name).read_bytes())
    got = list(iter_chunk_frames(tmp_path, manifest, wanted))
    assert [i for i, _ in got] == [4, 33, 65]
    assert [native_frame_of(image) for _, image in got] == [4, 33, 65]
    with pytest.raises(FileNotFoundError, match="modulo_16/chunk_0000000000.webm"):
        list(iter_chunk_frames(tmp_path, manifest, [16]))
    with pytest.raises(ValueError, match="outside|in \\[0"):
        list(iter_chunk_frames(out_dir, manifest, [n]))


def test_writer_refuses_out_of_order_and_incomplete_input(tmp_path):
    writer = ChunkPyramidWriter(tmp_path / "a", 5)
    writer.add(0, numbered_crop(0, 10, 10))
    with pytest.raises(ValueError, match="order"):
        writer.add(2, numbered_crop(2, 10, 10))
    with pytest.raises(ValueError, match="10x10"):
        writer.add(1, numbered_crop(1, 12, 10))
    with pytest.raises(ValueError, match="only 1 of 5"):
        writer.close()
    assert not (tmp_path / "a" / "manifest.json").exists()


def _packets(path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(video=0) if packet.size]


def test_each_chunk_is_encoded_once_its_last_frame_is_in_with_the_bytes_of_an_encoder_fed_rgb(tmp_path):
    """One encoder open at a time (their buffers were the crop step's peak at 4K), yet each
    chunk's VP9 packets are those of an encoder given the RGB crops one by one as they came."""
    n, width, height = 70, 101, 33
    crops = [numbered_crop(i, width, height) for i in range(n)]
    writer = ChunkPyramidWriter(tmp_path / "chunks", n, threads=2)
    for i in range(32):
        writer.add(i, crops[i])
    assert (tmp_path / "chunks" / chunk_name(1, 0)).is_file()  # its last frame, 31, is in
    assert not (tmp_path / "chunks" / chunk_name(16, 0)).exists()  # 0, 16, 32, 48, 64: waiting
    for i in range(32, n):
        writer.add(i, crops[i])
    manifest = writer.close()
    for chunk in manifest["chunks"]:
        reference = tmp_path / "reference.webm"
        with av.open(str(reference), "w", format="webm") as container:
            stream = _add_vp9_stream(
                container, width + 1, height + 1, crf=writer.crf, cpu_used=writer.cpu_used, threads=writer.threads
            )
            for pts, index in enumerate(chunk["frame_indices"]):
                frame = av.VideoFrame.from_ndarray(_pad_even(crops[index]), format="rgb24")
                frame.pts, frame.time_base = pts, Fraction(1, 10)
                container.mux(stream.encode(frame))
            container.mux(stream.encode())
        assert _packets(tmp_path / "chunks" / chunk["name"]) == _packets(reference), chunk["name"]


def test_caption_text_survives_a_chunk_for_ocr(tmp_path):
    from rapidocr import RapidOCR

    text = "今天天气很好 Hello 2024"
    caption = render_caption(text, 1151, 109, font_size=40)
    writer = ChunkPyramidWriter(tmp_path, 6)
    for i in range(6):
        writer.add(i, caption)
    manifest = writer.close()
    ((_, decoded),) = iter_chunk_frames(tmp_path, manifest, [5])  # a level-1 chunk, not its first frame
    assert decoded.shape == caption.shape
    result = RapidOCR()(decoded)
    assert "".join(result.txts).replace(" ", "") == text.replace(" ", "")


def test_encoding_600_caption_crops_is_fast(tmp_path):
    """60 s of 10 Hz crops (1150x110) in a few seconds: realtime VP9 settings are in force."""
    caption = render_caption("这是一个测试字幕 caption", 1150, 110)
    noise = np.random.default_rng(0).integers(0, 40, (110, 1150 + 600, 3), dtype=np.uint8)
    started = time.perf_counter()
    writer = ChunkPyramidWriter(tmp_path, 600)
    for i in range(600):
        crop = np.maximum(caption, noise[:, i : i + 1150])  # moving background under the text
        writer.add(i, crop)
    manifest = writer.close()
    elapsed = time.perf_counter() - started
    assert len(manifest["chunks"]) == len(plan_chunks(600))
    assert elapsed < 15, f"encoding took {elapsed:.1f} s"
