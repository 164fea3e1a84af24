"""Background work of the server process: job runners and periodic maintenance."""
