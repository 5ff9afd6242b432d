"""leadbridge's test suite."""
