"""Orchestration: what the Airflow DAGs in ``dags/`` run. ``pipelines`` names the DAGs and their stages (from the
stage table), ``tasks`` runs one stage on the target in settings (``local``: the CLI in a subprocess; ``emr``: an
EMR step), ``emr`` builds the cluster request and steps (pure), ``emr_runner`` drives them with the Amazon
provider's operators. Nothing here is imported by a stage."""
