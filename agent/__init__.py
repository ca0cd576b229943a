"""The Telecart agent: the daemon on the cart."""

import os

__version__ = "0.1.0"

# No third-party pydantic plugin observes the validation of health data, and the search for one
# (every installed package's entry points) is not paid at each start (docs: pydantic "Plugins").
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
