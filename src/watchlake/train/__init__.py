"""Training the activity classifier: split, Spark ML pipeline, honest evaluation, registration."""
