"""Unit tests of the domain packages (agent/identity, agent/dossiers, agent/links) on a real
migrated SQLite file, without HTTP; the tree mirrors agent/."""
