"""Unit tests of agent/dossiers."""
