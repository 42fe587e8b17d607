"""One trial's hyperparameters + the Dataset -> a compiled keras.Model.

`build` assembles the model from `dense` or `cnn` bodies, `augmentation` and the shared
`blocks`; `optimizers` builds the optimizer; `saved` exports and loads the best model.
`shapes` is pure Python (no TensorFlow) so that `tunenet validate` can check a CNN's space.
"""
