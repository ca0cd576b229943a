"""Unit tests of agent/identity."""
