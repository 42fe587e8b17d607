"""tunenet: tune Keras neural networks from one YAML file and diagnose every learning curve."""

import os

# Set before any module imports TensorFlow: quiet C++ logs, and no oneDNN, which reorders float
# sums (runs differ in the last digits) and logs before its logging can be silenced.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # distributed mode: no fork/epoll chatter

__version__ = "0.1.0"
