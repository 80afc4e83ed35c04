"""trogiup server: settings, storage, the Central client, sync, and the web API."""
