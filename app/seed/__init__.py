"""The seed pipeline: read and validate the curated corpus, then write it in one transaction."""
