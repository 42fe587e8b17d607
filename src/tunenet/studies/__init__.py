"""Follow-up studies of a config or a finished run, each writing its own files: evaluate,
activations, refine, init, lr_find (with lr_range) and learning_curve. Each reads through
`runs/` and `config/`; those that train import TensorFlow lazily, inside the function that
trains, so importing this package stays light."""
