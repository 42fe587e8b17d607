"""Where examples come from and how they are split: sources -> Examples -> Dataset.

`sources` names every source (`csv_file`, `npz_file`, `image_folder`, scikit-learn and keras
datasets); `dataset` applies the task, down-samples, splits with the run's seed and fits the
normalization on the training split. Nothing here imports TensorFlow at module level.
"""
