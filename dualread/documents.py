"""Input files -> pages: page images on demand, plus the PDF text layer with boxes.

Pages are rendered lazily, one at a time, so a 300-page statement never holds 300 bitmaps.
PDFium is not thread-safe, so every call into it goes through one process-wide lock.
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

DEFAULT_DPI = 200
DEFAULT_MAX_PAGES = 1000
DEFAULT_MAX_PIXELS = 120_000_000  # per page image; Pillow's own bomb guard uses the same figure
PDF_POINTS_PER_INCH = 72

IMAGE_FORMATS = {"PNG", "JPEG", "MPO", "TIFF", "WEBP"}
# Problems named the same wherever a file is refused (the CLI, the service's upload checks).
NOT_A_PDF = "not a readable PDF (corrupt or truncated)"
UNSUPPORTED_FILE = "unsupported or unreadable file; use PDF, PNG, JPEG, TIFF or WebP"
_PDFIUM_LOCK = threading.RLock()
_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


class DocumentError(Exception):
    """An input that cannot be read. ``str()`` is a one-line message naming the file."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


@dataclass(frozen=True)
class TextRun:
    """A run of text from the PDF text layer, in PDF points from the page's top-left corner."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class PageRef:
    """Where a page sits: 1-based page number inside the source file, and its size in points."""

    number: int
    width_pt: float
    height_pt: float


@dataclass
class Document:
    """An opened input file. Close it (or use ``with``) to release PDFium handles."""

    path: Path
    sha256: str
    kind: str  # "pdf" or "image"
    pages: list[PageRef]
    max_pixels: int = DEFAULT_MAX_PIXELS
    _pdf: pdfium.PdfDocument | None = field(default=None, repr=False)
    _frames: list[Image.Image] = field(default_factory=list, repr=False)

    def __enter__(self) -> Document:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pdf is not None:
            with _PDFIUM_LOCK:
                self._pdf.close()
            self._pdf = None

    @property
    def page_numbers(self) -> list[int]:
        return [p.number for p in self.pages]

    def ref(self, number: int) -> PageRef:
        """The selected page ``number``'s place and size."""
        for ref in self.pages:
            if ref.number == number:
                return ref
        raise DocumentError(self.path, f"page {number} is not among the selected pages")

    @contextmanager
    def pdf_page(self, number: int) -> Iterator[pdfium.PdfPage | None]:
        """The PDFium page, held under the process-wide PDFium lock; None for image documents.

        For readers that need PDFium's raw text API (character boxes and angles).
        """
        self.ref(number)
        if self._pdf is None:
            yield None
            return
        with _PDFIUM_LOCK:
            page = self._pdf[number - 1]
            try:
                yield page
            finally:
                page.close()

    def render(self, number: int, dpi: int = DEFAULT_DPI) -> Image.Image:
        """The page as an RGB image at ``dpi`` (PDF) or at its own resolution (images).

        A page that would exceed ``max_pixels`` at ``dpi`` is rendered at the largest DPI that fits.
        """
        ref = self.ref(number)
        scale = dpi / PDF_POINTS_PER_INCH
        pixels = ref.width_pt * ref.height_pt * scale * scale
        if pixels > self.max_pixels:
            scale *= (self.max_pixels / pixels) ** 0.5 * 0.995  # headroom for rounding up
        with self.pdf_page(number) as page:
            if page is None:
                return self._frames[number - 1]
            image: Image.Image = page.render(scale=scale).to_pil().convert("RGB")
        return image

    def iter_images(self, dpi: int = DEFAULT_DPI) -> Iterator[tuple[int, Image.Image]]:
        for number in self.page_numbers:
            yield number, self.render(number, dpi)

    def text_runs(self, number: int) -> list[TextRun]:
        """Text-layer runs with boxes, in file order (not reading order). Empty for images."""
        ref = self.ref(number)
        runs: list[TextRun] = []
        with self.pdf_page(number) as page:
            if page is None:
                return runs
            textpage = page.get_textpage()
            try:
                for index in range(textpage.count_rects()):
                    left, bottom, right, top = textpage.get_rect(index)
                    text = textpage.get_text_bounded(left, bottom, right, top)
                    if text.strip():
                        runs.append(
                            TextRun(text, left, ref.height_pt - top, right, ref.height_pt - bottom)
                        )
            finally:
                textpage.close()
        return runs


def parse_page_ranges(spec: str, page_count: int) -> list[int]:
    """``"1-3,5"`` -> ``[1, 2, 3, 5]``; open ends (``"4-"``) run to the last page."""
    chosen: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        start_text, dash, end_text = part.partition("-")
        try:
            start = int(start_text) if start_text else 1
            end = (int(end_text) if end_text else page_count) if dash else start
        except ValueError:
            raise ValueError(f"bad page range {part!r} (expected e.g. 1-3,5)") from None
        if start < 1 or end < start:
            raise ValueError(f"bad page range {part!r}")
        if start > page_count:
            raise ValueError(f"page {start} does not exist (the file has {page_count})")
        chosen.update(range(start, min(end, page_count) + 1))
    if not chosen:
        raise ValueError(f"page range {spec!r} selects no pages")
    return sorted(chosen)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_document(
    path: Path | str,
    *,
    password: str | None = None,
    pages: str | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Document:
    """Open a PDF or image; raise :class:`DocumentError` with a one-line reason on bad input."""
    path = Path(path)
    if not path.exists():
        raise DocumentError(path, "no such file")
    if not path.is_file():
        raise DocumentError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise DocumentError(path, "the file is empty")
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"%PDF") or path.suffix.lower() == ".pdf":
        document = _open_pdf(path, password, max_pixels)
    else:
        document = _open_image(path, max_pixels)
    total = len(document.pages)
    try:
        selected = parse_page_ranges(pages, total) if pages else list(range(1, total + 1))
    except ValueError as error:
        document.close()
        raise DocumentError(path, str(error)) from None
    if len(selected) > max_pages:
        document.close()
        raise DocumentError(
            path,
            f"{len(selected)} pages is over the limit of {max_pages} "
            "(choose pages with --pages or raise --max-pages)",
        )
    document.pages = [document.pages[n - 1] for n in selected]
    return document


def _open_pdf(path: Path, password: str | None, max_pixels: int) -> Document:
    with _PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path), password=password)
        except pdfium.PdfiumError as error:
            if getattr(error, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
                problem = (
                    "the PDF is encrypted; give its password with --password"
                    if password is None
                    else "the password is wrong"
                )
                raise DocumentError(path, problem) from None
            raise DocumentError(path, NOT_A_PDF) from None
        refs = []
        for index in range(len(pdf)):
            width, height = pdf.get_page_size(index)
            refs.append(PageRef(index + 1, width, height))
    if not refs:
        pdf.close()
        raise DocumentError(path, "the PDF has no pages")
    return Document(path, file_sha256(path), "pdf", refs, max_pixels, _pdf=pdf)


def _open_image(path: Path, max_pixels: int) -> Document:
    data = path.read_bytes()
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat the warning as fatal too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in IMAGE_FORMATS:
                raise DocumentError(
                    path, f"unsupported format {image.format}; use PDF, PNG, JPEG, TIFF or WebP"
                )
            frames = [
                ImageOps.exif_transpose(frame.copy()).convert("RGB")
                for frame in ImageSequence.Iterator(image)
            ]
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DocumentError(
                path, f"the image is larger than the limit of {max_pixels} pixels"
            ) from None
        except UnidentifiedImageError:
            raise DocumentError(path, UNSUPPORTED_FILE) from None
        except (OSError, SyntaxError, ValueError) as error:
            raise DocumentError(path, f"corrupt image ({error})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous_limit
    refs = [
        PageRef(
            i + 1,
            f.width * PDF_POINTS_PER_INCH / DEFAULT_DPI,
            f.height * PDF_POINTS_PER_INCH / DEFAULT_DPI,
        )
        for i, f in enumerate(frames)
    ]
    return Document(
        path, hashlib.sha256(data).hexdigest(), "image", refs, max_pixels, _frames=frames
    )
