"""Models: one sub-package per model (module.py maths + estimator.py user API), and baselines."""
