"""The SQL warehouse (PostgreSQL locally, Redshift on AWS): tables, and exactly-once writes of micro-batches."""
