"""Exporting the live account as manifests: the way in for accounts built in the dashboard."""

from .exporter import export, read_account, to_documents, write_documents

__all__ = ["export", "read_account", "to_documents", "write_documents"]
