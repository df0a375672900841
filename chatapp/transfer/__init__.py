"""Export and import of conversations, in one format (document.py, read back by validate.py):
one conversation over the API as Markdown or JSON (api.py), and every conversation as JSON Lines
from the command line (cli.py over jsonl.py), which is also how a store moves to another."""
from .api import bp
from .cli import export_command, import_command

__all__ = ["bp", "export_command", "import_command"]
