"""Input files -> pages: page images on demand, plus the PDF text layer with boxes.

Everything that bounds memory and time is checked before anything is decoded: the page count
(a PDF's page tree, an image's frame count), then each selected page's size in pixels at the
render DPI. Pages are decoded lazily, one at a time, and never kept: a 300-page statement or a
batch of 100 phone photos holds one page image at a time. Files are not held open between uses
either: at most :data:`OPEN_PDF_LIMIT` PDFs are open at once, so a batch of thousands of files
never runs out of file descriptors.

The magic bytes, not the file name, decide the format: a JPEG named ``.pdf`` is an image.

PDFium is not thread-safe, so every call into it goes through one process-wide lock.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_DPI = 200
DEFAULT_MAX_PAGES = 1000
DEFAULT_MAX_PIXELS = 120_000_000  # per page image; Pillow's own bomb guard uses the same figure
PDF_POINTS_PER_INCH = 72
OPEN_PDF_LIMIT = 16  # PDFs held open at once; the least recently used is closed first
PDF_MAGIC_WINDOW = 1024  # the PDF header may follow up to 1 KB of junk (PDF 1.7, annex H)

IMAGE_FORMATS = {"PNG", "JPEG", "MPO", "TIFF", "WEBP"}
# Problems named the same wherever a file is refused (the CLI, the service's upload checks).
NOT_A_PDF = "not a readable PDF (corrupt or truncated)"
UNSUPPORTED_FILE = "unsupported or unreadable file; use PDF, PNG, JPEG, TIFF or WebP"
_EXIF_ORIENTATION = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_PDFIUM_LOCK = threading.RLock()
_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_document_ids = itertools.count()


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


class _OpenPdfs:
    """The PDFs open right now, at most ``limit``; callers hold ``_PDFIUM_LOCK``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: OrderedDict[int, pdfium.PdfDocument] = OrderedDict()

    def get(self, document: Document) -> pdfium.PdfDocument:
        pdf = self._open.pop(document.id, None)
        if pdf is None:
            pdf = _load_pdf(document.path, document._password)
        self._open[document.id] = pdf
        while len(self._open) > self.limit:
            _, oldest = self._open.popitem(last=False)
            oldest.close()
        return pdf

    def close(self, document: Document) -> None:
        pdf = self._open.pop(document.id, None)
        if pdf is not None:
            pdf.close()


_OPEN_PDFS = _OpenPdfs(OPEN_PDF_LIMIT)


@dataclass
class Document:
    """An input file, checked and measured; pages are read from the file when asked for.

    Close it (or use ``with``) to release its PDFium handle early; one left open is closed when
    newer documents need the room.
    """

    path: Path
    sha256: str
    kind: str  # "pdf" or "image"
    pages: list[PageRef]
    max_pixels: int = DEFAULT_MAX_PIXELS
    _password: str | None = field(default=None, repr=False)
    id: int = field(default_factory=lambda: next(_document_ids), repr=False)

    def __enter__(self) -> Document:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with _PDFIUM_LOCK:
            _OPEN_PDFS.close(self)

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
        if self.kind != "pdf":
            yield None
            return
        with _PDFIUM_LOCK:
            page = _OPEN_PDFS.get(self)[number - 1]
            try:
                yield page
            finally:
                page.close()

    def render(self, number: int, dpi: int = DEFAULT_DPI) -> Image.Image:
        """The page as an RGB image at ``dpi`` (PDF) or at its own resolution (images).

        A page that would exceed ``max_pixels`` at ``dpi`` is rendered at the largest DPI that fits.
        The image is decoded now and not kept: the caller owns it.
        """
        ref = self.ref(number)
        if self.kind != "pdf":
            return _decode_frame(self.path, number - 1, self.max_pixels)
        scale = dpi / PDF_POINTS_PER_INCH
        pixels = ref.width_pt * ref.height_pt * scale * scale
        if pixels > self.max_pixels:
            scale *= (self.max_pixels / pixels) ** 0.5 * 0.995  # headroom for rounding up
        with self.pdf_page(number) as page:
            assert page is not None
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


def _select(path: Path, total: int, pages: str | None, max_pages: int) -> list[int]:
    """The page numbers to read, refused when there are more than ``max_pages`` of them."""
    try:
        selected = parse_page_ranges(pages, total) if pages else list(range(1, total + 1))
    except ValueError as error:
        raise DocumentError(path, str(error)) from None
    if len(selected) > max_pages:
        raise DocumentError(
            path,
            f"{len(selected)} pages is over the limit of {max_pages} "
            "(choose pages with --pages or raise --max-pages)",
        )
    return selected


def _check_pixels(path: Path, ref: PageRef, dpi: int, max_pixels: int) -> None:
    scale = dpi / PDF_POINTS_PER_INCH
    pixels = ref.width_pt * scale * ref.height_pt * scale
    if pixels > max_pixels:
        raise DocumentError(
            path,
            f"page {ref.number} is {ref.width_pt:.0f} x {ref.height_pt:.0f} pt, "
            f"{pixels:.0f} pixels at {dpi} DPI, over the limit of {max_pixels} pixels",
        )


def open_document(
    path: Path | str,
    *,
    password: str | None = None,
    pages: str | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    dpi: int = DEFAULT_DPI,
) -> Document:
    """Check and measure a PDF or image; raise :class:`DocumentError` with a one-line reason.

    Nothing is decoded before the page count and every selected page's pixel count at ``dpi``
    are within ``max_pages`` and ``max_pixels``. The file is not held open afterwards.
    """
    path = Path(path)
    try:
        if not path.exists():
            raise DocumentError(path, "no such file")
        if not path.is_file():
            raise DocumentError(path, "not a regular file")
        if path.stat().st_size == 0:
            raise DocumentError(path, "the file is empty")
        with path.open("rb") as handle:
            head = handle.read(PDF_MAGIC_WINDOW)
        if b"%PDF-" in head:
            return _open_pdf(path, password, pages, max_pages, max_pixels, dpi)
        return _open_image(path, pages, max_pages, max_pixels)
    except OSError as error:  # unreadable (permissions, I/O error): this file's problem only
        raise DocumentError(path, f"cannot read the file ({error.strerror or error})") from None


def _load_pdf(path: Path, password: str | None) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
            problem = (
                "the PDF is encrypted; give its password with --password, --password-file "
                "or DUALREAD_PASSWORD"
                if password is None
                else "the password is wrong"
            )
            raise DocumentError(path, problem) from None
        raise DocumentError(path, NOT_A_PDF) from None


def _open_pdf(
    path: Path, password: str | None, pages: str | None, max_pages: int, max_pixels: int, dpi: int
) -> Document:
    with _PDFIUM_LOCK:
        pdf = _load_pdf(path, password)
        try:
            total = len(pdf)  # the page tree's claim, read without loading a page
            if not total:
                raise DocumentError(path, "the PDF has no pages")
            refs = []
            for number in _select(path, total, pages, max_pages):
                try:
                    width, height = pdf.get_page_size(number - 1)
                except pdfium.PdfiumError:
                    raise DocumentError(path, f"page {number} is missing or damaged") from None
                refs.append(PageRef(number, width, height))
                _check_pixels(path, refs[-1], dpi, max_pixels)
        finally:
            pdf.close()
    return Document(path, file_sha256(path), "pdf", refs, max_pixels, _password=password)


@contextmanager
def _pillow_guard(path: Path, max_pixels: int) -> Iterator[None]:
    """Pillow errors as one-line :class:`DocumentError`s, and its bomb guard at ``max_pixels``."""
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; treat the warning as fatal too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DocumentError(
                path, f"the image is larger than the limit of {max_pixels} pixels"
            ) from None
        except UnidentifiedImageError:
            raise DocumentError(path, UNSUPPORTED_FILE) from None
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise DocumentError(path, f"corrupt image ({error})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous_limit


def _frame_count(image: Image.Image, path: Path, pages: str | None, max_pages: int) -> int:
    """How many frames the image holds, read from its headers; counting stops one frame past
    ``max_pages`` when no page range is given, as the file is refused either way."""
    claimed = getattr(image, "n_frames", 1)
    if pages is None and claimed > max_pages:
        raise DocumentError(
            path,
            f"{claimed} pages is over the limit of {max_pages} "
            "(choose pages with --pages or raise --max-pages)",
        )
    return int(claimed)


def _open_image(path: Path, pages: str | None, max_pages: int, max_pixels: int) -> Document:
    with _pillow_guard(path, max_pixels), Image.open(path) as image:
        if image.format not in IMAGE_FORMATS:
            raise DocumentError(
                path, f"unsupported format {image.format}; use PDF, PNG, JPEG, TIFF or WebP"
            )
        refs = []
        for number in _select(path, _frame_count(image, path, pages, max_pages), pages, max_pages):
            image.seek(number - 1)
            width, height = image.size
            if width * height > max_pixels:
                raise DocumentError(
                    path,
                    f"page {number} is {width} x {height} pixels, over the limit of "
                    f"{max_pixels} pixels",
                )
            if image.getexif().get(_EXIF_ORIENTATION) in _QUARTER_TURNS:
                width, height = height, width
            refs.append(
                PageRef(
                    number,
                    width * PDF_POINTS_PER_INCH / DEFAULT_DPI,
                    height * PDF_POINTS_PER_INCH / DEFAULT_DPI,
                )
            )
        for ref in refs:  # every selected frame decodes, one at a time: bad data shows up now
            _validate_frame(image, ref.number - 1)
    return Document(path, file_sha256(path), "image", refs, max_pixels)


def _validate_frame(image: Image.Image, index: int) -> None:
    """Decode one frame and drop it (a JPEG at 1/8 scale: the whole stream is still read)."""
    image.seek(index)
    if image.format == "JPEG":
        image.draft("RGB", (max(image.width // 8, 1), max(image.height // 8, 1)))
    image.load()


def _decode_frame(path: Path, index: int, max_pixels: int) -> Image.Image:
    with _pillow_guard(path, max_pixels), Image.open(path) as image:
        image.seek(index)
        upright = ImageOps.exif_transpose(image)
        return upright.convert("RGB")
