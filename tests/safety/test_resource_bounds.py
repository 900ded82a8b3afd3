"""Issue 16, section 4: small hostile files cost bounded memory and time.

Limits apply before anything is decoded (page count, frame count, pixels per page at the render
DPI); pages are decoded one at a time and not kept. Each probe runs in a child process under an
address-space limit, so a regression fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.safety.hostile_files import (
    pdf_claiming_pages,
    pdf_with_page_size,
    phone_photo,
    tiff_with_frames,
)
from tests.safety.probe import GIB, run_limited
from tests.test_documents import make_pdf

pytestmark = pytest.mark.unit


def test_a_tiff_of_1200_large_frames_is_refused_from_its_frame_count(tmp_path: Path) -> None:
    path = tiff_with_frames(tmp_path / "frames.tiff", frames=1200, width=4000, height=4000)
    assert path.stat().st_size < 200_000
    run = run_limited(
        f"""
        from dualread.documents import DocumentError, open_document
        try:
            open_document({str(path)!r})
        except DocumentError as error:
            print(error)
        """,
        memory_bytes=GIB,
    )
    assert run.returncode == 0, run.output
    assert run.last_line == f"{path}: 1200 pages is over the limit of 1000 " + (
        "(choose pages with --pages or raise --max-pages)"
    )


def test_choosing_one_page_of_a_large_tiff_decodes_only_that_frame(tmp_path: Path) -> None:
    path = tiff_with_frames(tmp_path / "frames.tiff", frames=1200, width=4000, height=4000)
    run = run_limited(
        f"""
        from dualread.documents import open_document
        with open_document({str(path)!r}, pages="1") as document:
            image = document.render(1)
            print(document.page_numbers, image.size)
        """,
        memory_bytes=GIB,
    )
    assert run.returncode == 0, run.output
    assert run.last_line == "[1] (4000, 4000)"
    assert run.peak_mb is not None and run.peak_mb < 400


def test_a_pdf_claiming_a_million_pages_is_refused_from_its_count(tmp_path: Path) -> None:
    path = pdf_claiming_pages(tmp_path / "million.pdf")
    run = run_limited(
        f"""
        import time
        from dualread.documents import DocumentError, open_document
        started = time.perf_counter()
        try:
            open_document({str(path)!r})
        except DocumentError as error:
            print(round(time.perf_counter() - started, 1), error)
        """,
        memory_bytes=GIB,
    )
    assert run.returncode == 0, run.output
    seconds, _, message = run.last_line.partition(" ")
    assert message == f"{path}: 1000000 pages is over the limit of 1000 " + (
        "(choose pages with --pages or raise --max-pages)"
    )
    assert float(seconds) < 1.0


def test_a_20000_pt_page_is_refused_before_rendering(tmp_path: Path) -> None:
    path = pdf_with_page_size(tmp_path / "poster.pdf", 20_000, 20_000)
    run = run_limited(
        f"""
        import time
        from dualread.documents import DocumentError, open_document
        started = time.perf_counter()
        try:
            with open_document({str(path)!r}) as document:
                document.render(1)
        except DocumentError as error:
            print(round(time.perf_counter() - started, 1), error)
        """,
        memory_bytes=GIB,
    )
    assert run.returncode == 0, run.output
    seconds, _, message = run.last_line.partition(" ")
    assert message.startswith(f"{path}: page 1 is 20000 x 20000 pt, ")
    assert message.endswith("pixels at 200 DPI, over the limit of 120000000 pixels")
    assert float(seconds) < 1.0


def test_forty_phone_photos_are_not_kept_decoded(tmp_path: Path) -> None:
    """A batch opens every file first; 40 photos of 2000 x 1500 decoded and kept would be 360 MB."""
    first = phone_photo(tmp_path / "photo-00.jpg", 2000, 1500)
    paths = [first] + [
        Path(shutil.copy(first, tmp_path / f"photo-{n:02}.jpg")) for n in range(1, 40)
    ]
    run = run_limited(
        f"""
        import resource
        from dualread.documents import open_document
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        documents = [open_document(path) for path in {[str(p) for p in paths]!r}]
        for document in documents:
            document.render(1)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(len(documents), round(after - before))
        """
    )
    assert run.returncode == 0, run.output
    count, growth = map(int, run.last_line.split())
    assert count == 40
    assert growth < 150, f"peak grew by {growth} MB"


def test_a_thousand_inputs_do_not_run_out_of_file_descriptors(tmp_path: Path) -> None:
    """The batch holds every document open at once; 1100 PDFs under a limit of 256 descriptors."""
    first = make_pdf(tmp_path / "s-0000.pdf", pages=1)
    paths = [first] + [Path(shutil.copy(first, tmp_path / f"s-{n:04}.pdf")) for n in range(1, 1100)]
    run = run_limited(
        f"""
        from dualread.documents import open_document
        documents = [open_document(path) for path in {[str(p) for p in paths]!r}]
        read = sum(1 for document in documents if document.text_runs(1))
        print(len(documents), read)
        """,
        open_files=256,
    )
    assert run.returncode == 0, run.output
    assert run.last_line == "1100 1100"
