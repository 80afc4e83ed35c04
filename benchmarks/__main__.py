"""Run every benchmark module of this package (``python -m benchmarks``), or
only those named: ``python -m benchmarks indicators``."""

import importlib
import pkgutil
import sys

import benchmarks


def main(names: list[str]) -> None:
    found = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__))
    for name in names or found:
        if name.startswith("_"):
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        sys.stdout.write(f"== {name}\n")
        sys.stdout.flush()
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
