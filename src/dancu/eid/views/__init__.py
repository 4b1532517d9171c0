"""e-ID pages, by who uses them: ``citizen`` (registration, sign-in, step-up, recovery, self-service)
and ``officer`` (the console's look-up, level-2 enrolment, status changes, SMS outbox); ``common``
holds what the citizen pages share with the mobile JSON API."""
