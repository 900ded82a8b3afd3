"""dualread: bank statements to validated JSON, CSV and OFX, read twice, kept where reads agree."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dualread")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
