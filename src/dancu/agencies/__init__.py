"""Runnable stand-ins for other agencies' systems (issue #13): each is its own process with its
own database, reached only over HTTP through ``dancu.exchange`` (``dancu agency serve …``)."""
