"""The kiosk's web UI: static assets served by the agent (no build step, nothing from outside)."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
