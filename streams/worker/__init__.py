"""The faust worker: its app with the low-rate agents, and running it until it stops."""
