"""Fault injection (issue 7): the three services as real processes over their own PostgreSQL and
Kafka, under a few hundred CAD reports, while services are killed with SIGKILL, the broker and
the database are restarted and the Twilio stand-in fails or hangs at random. Marked `faults`."""
