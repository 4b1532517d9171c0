"""Signed, logged, idempotent messages with other agencies' systems (issue #13; docs/exchange.md)."""
