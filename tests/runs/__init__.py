"""Tests of tunenet.runs, the run directory's owner."""
