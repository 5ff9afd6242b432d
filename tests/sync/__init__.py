"""Tests of the tablet side of sync: local store, backoff, client and worker."""
