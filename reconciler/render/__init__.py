"""Plan outputs: each module turns Plan data into one format and reads nothing else."""

from . import jsonout, markdown, text

FORMATS = {"text": text.render, "json": jsonout.render, "markdown": markdown.render}

__all__ = ["FORMATS", "jsonout", "markdown", "text"]
