"""The published API: its layout (every path once), the models of its files, their JSON
Schemas and one reader of a data root (a folder or a URL)."""
