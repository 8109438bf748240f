"""A local Google Cloud Vision: the ImageAnnotator gRPC service, answered by real RapidOCR.

Google's endpoint cannot run here, so this speaks its protocol instead: the
`google.cloud.vision.v1.ImageAnnotator/BatchAnnotateImages` method, with the request and
response types of the `google-cloud-vision` package, on 127.0.0.1. The real client library
talks to it over gRPC. Each image it receives is decoded and OCR'd by RapidOCR, and the lines
come back as Vision's full text annotation (pages, blocks, paragraphs, words, symbols with
detected breaks). `script` makes chosen calls fail, to test retries.
"""

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterator

import grpc
import numpy as np
from google.cloud import vision
from google.rpc import status_pb2
from PIL import Image

from captionacc_assets.core.ocr.rapid import RapidOcrEngine

SERVICE = "google.cloud.vision.v1.ImageAnnotator"
Break = vision.TextAnnotation.DetectedBreak.BreakType


def _poly(left: float, top: float, right: float, bottom: float) -> vision.BoundingPoly:
    corners = ((left, top), (right, top), (right, bottom), (left, bottom))
    return vision.BoundingPoly(vertices=[vision.Vertex(x=round(x), y=round(y)) for x, y in corners])


def _word(text: str, left: float, top: float, right: float, bottom: float, score: float, last: bool) -> vision.Word:
    step = (right - left) / len(text)
    symbols = []
    for i, char in enumerate(text):
        kind = (Break.LINE_BREAK if last else Break.SPACE) if i == len(text) - 1 else Break.UNKNOWN
        symbols.append(
            vision.Symbol(
                text=char,
                bounding_box=_poly(left + i * step, top, left + (i + 1) * step, bottom),
                property=vision.TextAnnotation.TextProperty(
                    detected_break=vision.TextAnnotation.DetectedBreak(type_=kind)
                ),
                confidence=score,
            )
        )
    return vision.Word(bounding_box=_poly(left, top, right, bottom), symbols=symbols, confidence=score)


def annotate_with_rapidocr(content: bytes) -> vision.AnnotateImageResponse:
    image = np.asarray(Image.open(io.BytesIO(content)).convert("RGB"))
    height, width = image.shape[:2]
    boxes = RapidOcrEngine(max_side=max(height, width, 64)).recognize(image)
    blocks = []
    for box in boxes:
        left, top, right, bottom = box.left * width, box.top * height, box.right * width, box.bottom * height
        parts = box.text.split()
        total = sum(len(p) for p in parts) + len(parts) - 1
        words, at = [], 0
        for n, part in enumerate(parts):
            x0 = left + (right - left) * at / total
            x1 = left + (right - left) * (at + len(part)) / total
            words.append(_word(part, x0, top, x1, bottom, box.confidence, n == len(parts) - 1))
            at += len(part) + 1
        blocks.append(vision.Block(paragraphs=[vision.Paragraph(words=words)]))
    full_text = "".join(box.text + "\n" for box in boxes)
    return vision.AnnotateImageResponse(
        full_text_annotation=vision.TextAnnotation(
            pages=[vision.Page(width=width, height=height, blocks=blocks)], text=full_text
        ),
        text_annotations=[vision.EntityAnnotation(description=full_text)] if boxes else [],
    )


class FakeVision:
    """The service's state: images received, calls made, and scripted failures still to come."""

    def __init__(self):
        self.lock = threading.Lock()
        self.images: list[tuple[int, int]] = []  # (height, width) of every image OCR'd
        self.image_bytes: list[int] = []
        self.calls = 0
        self.script: list[str] = []  # "unavailable" (an RPC error) or "image_error" (an error in the response)

    def batch_annotate_images(
        self, request: vision.BatchAnnotateImagesRequest, context
    ) -> vision.BatchAnnotateImagesResponse:
        with self.lock:
            self.calls += 1
            action = self.script.pop(0) if self.script else None
        if action == "unavailable":
            context.abort(grpc.StatusCode.UNAVAILABLE, "the service is briefly unavailable")
        if action == "image_error":
            error = status_pb2.Status(code=13, message="internal error while processing the image")
            return vision.BatchAnnotateImagesResponse(
                responses=[vision.AnnotateImageResponse(error=error) for _ in request.requests]
            )
        responses = []
        for item in request.requests:
            if [f.type_ for f in item.features] != [vision.Feature.Type.TEXT_DETECTION]:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "this fake answers TEXT_DETECTION only")
            with Image.open(io.BytesIO(item.image.content)) as img:
                with self.lock:
                    self.images.append((img.height, img.width))
                    self.image_bytes.append(len(item.image.content))
            responses.append(annotate_with_rapidocr(item.image.content))
        return vision.BatchAnnotateImagesResponse(responses=responses)


@contextmanager
def vision_server() -> Iterator[tuple[str, FakeVision]]:
    """Serve the fake on 127.0.0.1; yields (`host:port`, its state)."""
    fake = FakeVision()
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "BatchAnnotateImages": grpc.unary_unary_rpc_method_handler(
                fake.batch_annotate_images,
                request_deserializer=vision.BatchAnnotateImagesRequest.deserialize,
                response_serializer=vision.BatchAnnotateImagesResponse.serialize,
            ),
        },
    )
    server = grpc.server(
        ThreadPoolExecutor(max_workers=2),
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
        ],
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", fake
    finally:
        server.stop(grace=None)
