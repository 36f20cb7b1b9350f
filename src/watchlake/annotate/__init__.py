"""The annotation service (``watchlake annotate``): low-confidence windows of ``annotation_queue`` leased to people
(a page) or programs (a JSON API, the oracle), their labels logged in the warehouse and handed to the feature store."""
