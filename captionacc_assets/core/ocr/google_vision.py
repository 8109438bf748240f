"""Google Cloud Vision behind the `OcrEngine` protocol (production's optional OCR).

Vision is priced and limited per image, so `recognize_many` stacks frames into montages
(`montage.py`) and maps each text line back to its frame. Lines are rebuilt from the full text
annotation's symbols and their detected breaks, so a caption line is one box, as RapidOCR gives.

A failed request (an RPC error, or an error in the image's response) is retried with backoff;
when the attempts run out it raises `VisionOcrError`. A failure is never read as "no text":
an empty answer only ever means Vision found no text.
"""

from __future__ import annotations

import json
import os
import time
from typing import Sequence

import numpy as np

from captionacc_assets.core.caption_lines import in_reading_order
from captionacc_assets.core.ocr.engine import OcrBox, as_rgb
from captionacc_assets.core.ocr.montage import MAX_BYTES, MAX_HEIGHT, MAX_PIXELS, encoded_montages

ENDPOINT_VAR = "CAPTIONACC_GOOGLE_VISION_ENDPOINT"  # host:port of a plaintext emulator (tests only)
CREDENTIALS_JSON_VAR = "CAPTIONACC_GOOGLE_VISION_CREDENTIALS_JSON"  # a service account key, as JSON text
CREDENTIALS_FILE_VAR = "GOOGLE_APPLICATION_CREDENTIALS"  # or a path to one (Google's own variable)


class VisionOcrError(RuntimeError):
    """Vision could not OCR an image after every attempt; the frames' text is unknown, not empty."""


def check_credentials() -> None:
    """Fail at start, naming the variables, when no way to reach Vision is configured."""
    if not any(os.environ.get(v, "").strip() for v in (ENDPOINT_VAR, CREDENTIALS_JSON_VAR, CREDENTIALS_FILE_VAR)):
        from captionacc_assets.settings import MissingSettingError

        raise MissingSettingError(
            f"CAPTIONACC_OCR_ENGINE=google_vision needs credentials: set {CREDENTIALS_JSON_VAR} "
            f"(a service account key as JSON) or {CREDENTIALS_FILE_VAR} (a path to one)"
        )


def client_from_env():
    """An `ImageAnnotatorClient` for the configured endpoint and credentials."""
    from google.cloud import vision

    endpoint = os.environ.get(ENDPOINT_VAR, "").strip()
    if endpoint:
        import grpc
        from google.cloud.vision_v1.services.image_annotator.transports import ImageAnnotatorGrpcTransport

        transport = ImageAnnotatorGrpcTransport(channel=grpc.insecure_channel(endpoint))
        return vision.ImageAnnotatorClient(transport=transport)
    check_credentials()
    info = os.environ.get(CREDENTIALS_JSON_VAR, "").strip()
    if info:
        from google.oauth2 import service_account

        try:
            credentials = service_account.Credentials.from_service_account_info(json.loads(info))
        except (ValueError, KeyError) as error:  # the message never includes the key itself
            raise ValueError(
                f"{CREDENTIALS_JSON_VAR} is not a valid service account key ({type(error).__name__})"
            ) from None
        return vision.ImageAnnotatorClient(credentials=credentials)
    return vision.ImageAnnotatorClient()


def _vertices_px(poly, width: int, height: int) -> np.ndarray:
    if len(poly.vertices):
        return np.array([(v.x, v.y) for v in poly.vertices], dtype=np.float64)
    return np.array([(v.x * width, v.y * height) for v in poly.normalized_vertices], dtype=np.float64)


def lines_from_annotation(response, width: int, height: int) -> list[OcrBox]:
    """Text lines (normalized to the annotated image) from an `AnnotateImageResponse`."""
    from google.cloud import vision

    breaks = vision.TextAnnotation.DetectedBreak.BreakType
    line_ends = {breaks.EOL_SURE_SPACE, breaks.LINE_BREAK, breaks.HYPHEN}
    spaces = {breaks.SPACE, breaks.SURE_SPACE}
    lines: list[OcrBox] = []
    text: list[str] = []
    points: list[np.ndarray] = []
    scores: list[float] = []

    def finish() -> None:
        content = "".join(text).strip()
        if content and points:
            xy = np.concatenate(points)
            xs, ys = np.clip(xy[:, 0] / width, 0, 1), np.clip(xy[:, 1] / height, 0, 1)
            if xs.max() > xs.min() and ys.max() > ys.min():
                confidence = float(np.mean(scores)) if scores else 1.0
                lines.append(
                    OcrBox(content, confidence, float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
                )
        text.clear()
        points.clear()
        scores.clear()

    for page in response.full_text_annotation.pages:
        for block in page.blocks:
            for paragraph in block.paragraphs:
                for word in paragraph.words:
                    if word.confidence > 0:
                        scores.append(word.confidence)
                    for symbol in word.symbols:
                        text.append(symbol.text)
                        points.append(_vertices_px(symbol.bounding_box or word.bounding_box, width, height))
                        kind = symbol.property.detected_break.type_
                        if kind == breaks.HYPHEN:
                            text.append("-")
                        if kind in spaces:
                            text.append(" ")
                        if kind in line_ends:
                            finish()
                finish()
    return lines


class GoogleVisionOcrEngine:
    """Cloud Vision TEXT_DETECTION over montages of frames."""

    name = "google_vision"
    TRANSIENT_BACKOFF_S = 0.5

    def __init__(
        self,
        client=None,
        *,
        max_attempts: int = 4,
        backoff_s: float = TRANSIENT_BACKOFF_S,
        timeout_s: float = 120.0,
        min_confidence: float = 0.5,
        max_height: int = MAX_HEIGHT,
        max_pixels: int = MAX_PIXELS,
        max_bytes: int = MAX_BYTES,
        language_hints: Sequence[str] = (),
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.min_confidence = min_confidence
        self.limits = {"max_height": max_height, "max_pixels": max_pixels, "max_bytes": max_bytes}
        self.language_hints = list(language_hints)
        self.requests_sent = 0

    @property
    def client(self):
        if self._client is None:
            self._client = client_from_env()
        return self._client

    def recognize(self, image: np.ndarray) -> list[OcrBox]:
        return self.recognize_many([image])[0]

    def recognize_many(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        frames = [as_rgb(image) for image in images]
        results: list[list[OcrBox]] = [[] for _ in frames]
        for montage, data in encoded_montages(frames, **self.limits):
            response = self._annotate(data)
            lines = lines_from_annotation(response, montage.width, montage.height)
            lines = [b for b in lines if b.confidence >= self.min_confidence]
            for index, boxes in montage.boxes_per_frame(lines).items():
                results[index] = in_reading_order(boxes)
        return results

    def _annotate(self, content: bytes):
        """One image through BatchAnnotateImages, retried; its `AnnotateImageResponse`."""
        from google.api_core import exceptions
        from google.cloud import vision

        request = vision.AnnotateImageRequest(
            image=vision.Image(content=content),
            features=[vision.Feature(type_=vision.Feature.Type.TEXT_DETECTION)],
        )
        if self.language_hints:
            request.image_context = vision.ImageContext(language_hints=self.language_hints)
        last = "no attempt made"
        for attempt in range(1, self.max_attempts + 1):
            self.requests_sent += 1
            try:
                batch = self.client.batch_annotate_images(requests=[request], retry=None, timeout=self.timeout_s)
            except exceptions.GoogleAPICallError as error:
                last = f"{type(error).__name__}: {error.message}"
                if isinstance(
                    error,
                    (
                        exceptions.InvalidArgument,
                        exceptions.PermissionDenied,
                        exceptions.Unauthenticated,
                        exceptions.NotFound,
                    ),
                ):
                    break  # retrying cannot fix these
            else:
                if len(batch.responses) != 1:
                    last = f"expected 1 response, got {len(batch.responses)}"
                elif batch.responses[0].error.code:
                    status = batch.responses[0].error
                    last = f"image error {status.code}: {status.message}"
                else:
                    return batch.responses[0]
            if attempt < self.max_attempts:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise VisionOcrError(f"Google Cloud Vision failed after {attempt} attempt(s): {last}")
