"""The model catalogue and model downloads (no Qt); see docs/models.md."""
