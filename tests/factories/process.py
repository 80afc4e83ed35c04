"""The environment a test gives the trogiup processes it starts."""

import os


def trogiup_env(**values: str) -> dict[str, str]:
    """This process's environment without any TROGIUP_ setting of the machine
    running the tests, plus ``values``: a child sees only what the test set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROGIUP_")}
    env.update(values)
    return env
