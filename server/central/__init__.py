"""The one place that speaks HTTP to ODK Central: pyodk, plus the few REST calls
pyodk lacks. Paging, retries, backoff and error wrapping live here."""
