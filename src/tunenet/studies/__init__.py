"""Follow-up studies of a config or a finished run, each writing its own files: evaluate,
activations, refine, init, lr_find (with lr_range) and learning_curve; export_mlflow and
export_tensorboard (with export_source) send a run's files to a tracker. Each reads through
`runs/` and `config/`; those that train import TensorFlow lazily, inside the function that
trains (and the exports import mlflow and tensorboard inside theirs), so importing this package
stays light."""
