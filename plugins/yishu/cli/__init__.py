"""The command line (`yishu`): one module per command group, assembled in main.py."""

from yishu.cli.main import app

__all__ = ["app"]
