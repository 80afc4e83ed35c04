"""Settings as the tests build them outside development."""

from server.settings import Settings

# Outside development a key is required; this one is long enough and only
# ever used by the tests.
TEST_SECRET_KEY = "trogiup-test-secret-key-not-for-any-deployment"


def make_settings(**values) -> Settings:
    """Settings in the test environment, with the tests' secret key."""
    return Settings(environment="test", secret_key=TEST_SECRET_KEY, **values)
