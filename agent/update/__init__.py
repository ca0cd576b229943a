"""Updates of the agent: signed bundles (bundle.py), versioned environments that undo a version
which does not start (releases.py). Run as root by `telecart update apply` (docs/image.md)."""
