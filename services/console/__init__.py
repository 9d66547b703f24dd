"""The coordinators' console: the live board, incident timelines, alerts, roster and test
phones, for the people who run the team. Its own read model, built from the pipeline's events."""
