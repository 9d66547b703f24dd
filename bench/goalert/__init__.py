"""GoAlert for the side-by-side bench (`bench.versus_goalert`): the pinned release built through
the Go module proxy (`build`), run against a PostgreSQL of its own with its Twilio API pointed
at our stand-in (`server`), and seeded and sent alerts through its own API (`client`)."""
