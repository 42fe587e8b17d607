"""The config checks that need the model's shapes: a CNN that fits the images, and the largest
model of the space against `search.max_model_params`. Neither imports TensorFlow.

config/ sits below models/ and cannot import them, so each command that builds models from a
config hands these to the loader: `load_config(path, checks=MODEL_CHECKS)`.
"""

from __future__ import annotations

from tunenet.config.sections import Config
from tunenet.models import shapes, size


def cnn_fits(config: Config) -> list[tuple[str, str]]:
    """A CNN space that shrinks the image below 1x1, where the config fixes the input shape."""
    if config.model.kind != "cnn" and config.data.augmentation is None:
        return []
    return shapes.fit_problems(config, shapes.known_input_shape(config))


# size.check_config: the largest model of the space, estimated from the data's shape (reads at
# most a data file's header); a custom model's size is unknown until its builder runs.
MODEL_CHECKS = (cnn_fits, size.check_config)
