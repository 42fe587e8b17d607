"""Tests of tunenet.reporting, one module per module of the package."""
