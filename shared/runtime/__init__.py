"""The embedded runtime: launch PostgreSQL, nats-server and the services on one machine."""
