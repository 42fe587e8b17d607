"""tunenet: tune Keras neural networks from one YAML file and diagnose every learning curve."""

__version__ = "0.1.0"
