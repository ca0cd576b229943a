"""Unit tests of agent/links."""
