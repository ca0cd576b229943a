"""The Telecart agent: the daemon on the cart."""

__version__ = "0.1.0"
