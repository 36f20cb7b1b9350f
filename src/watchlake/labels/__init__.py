"""Activity labels: spreading CASAS single-row labels over their span and mapping raw labels to classes."""
