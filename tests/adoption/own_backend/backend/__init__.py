"""The notes service's backend (a user's own package named `backend`)."""
