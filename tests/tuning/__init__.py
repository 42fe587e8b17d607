"""Tests of tunenet.tuning, the search session and its trials."""
