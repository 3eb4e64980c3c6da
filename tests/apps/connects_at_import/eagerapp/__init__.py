"""An app that checks its database at import time."""
