"""Step 1 of the flow: the YAML file becomes a validated, frozen `Config` and a search space.

`sections` holds the pydantic models (one per YAML section, every bound beside its field),
`load` reads and checks a file, `schema` writes the JSON Schema, `space` turns the config into
keras-tuner hyperparameters, `objective` says which metric the search optimizes and its
direction, `user_code` reads the user's builder and loader files (`model.build`, `data.loader`)
without running them, and is the one place that imports them at search time. Nothing here
imports TensorFlow.
"""

from tunenet.config.sections import Config

__all__ = ["Config"]
