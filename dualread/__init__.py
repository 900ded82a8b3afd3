"""dualread: bank statements to validated JSON, CSV and OFX, read twice, kept where reads agree."""

# The one place the version is written: the wheel's metadata takes it from here (hatch), and
# `dualread --version` reads it without importlib.metadata's scan of the installed packages.
__version__ = "0.1.0"
