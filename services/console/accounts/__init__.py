"""Console accounts: passwords, TOTP codes, sign-in with lock-outs, sessions, and the audit log."""
