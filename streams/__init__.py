"""QuotaFlow's imperative shell: broker, faust agents, metrics, CLI."""
