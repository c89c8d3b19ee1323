"""The registry tests' real models and data serve monitoring too."""

from tests.models.conftest import iris, iris_pipeline

__all__ = ["iris", "iris_pipeline"]
