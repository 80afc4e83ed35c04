"""Background work. Each task is a few lines that call the same service
functions as the CLI; ``schedule.py`` is the one table of what runs when.

With Redis configured (``TROGIUP_REDIS_URL``) Celery runs the tasks; in the
embedded default the server process runs the same jobs in a thread."""
