"""``watchlake retrain``: the champion's recipe refitted on the base windows plus the feature store's labels."""
