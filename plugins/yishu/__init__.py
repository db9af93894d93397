"""Yishu (一数): public-data authorized operation: collect, validate, de-identify, publish."""

__version__ = "0.1.0"
