"""Model packaging, the model registry API and loaded models."""
