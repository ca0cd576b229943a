"""`python -m bench [NAME...]`: run every bench/bench_*.py (or those whose name contains one of
the NAMEs) and print one JSON line per figure on stdout, as soon as it is measured.

A benchmark module exposes `run() -> list[dict]`; it may also expose `figures()`, a generator of the
same dicts, which is preferred so each figure is printed the moment it exists. A failing module
prints `{"name": "<module>", "error": "..."}` and the others still run. Progress goes to stderr.
Always exits 0: timings are never asserted here (shared, noisy machines); read the ratios.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # `tests.live` and `agent` from this checkout
    sys.path.insert(0, str(ROOT))


def _emit(line: dict) -> None:
    sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def discover(wanted: list[str]) -> list[str]:
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    return [n for n in names if not wanted or any(w in n for w in wanted)]


def _compile_sources() -> None:
    """The cart runs bytecode compiled when its wheel was installed (pip compiles,
    image/mkosi.postinst); a checkout run with PYTHONDONTWRITEBYTECODE (as here) would compile the
    agent's ~200 modules at every start, 0.1 to 0.3 s the cart never spends. Compiled once here,
    into the checkout's __pycache__ directories (ignored by git), which every start then reads."""
    import compileall

    for package in ("agent", "drivers", "cloud_sync"):
        compileall.compile_dir(ROOT / package, quiet=1, workers=0)


def main(argv: list[str]) -> int:
    started = time.monotonic()
    # As the tests: in a network namespace of our own, so the calls' traffic never touches the
    # machine's interfaces (tests/netns.py; root only, else on the machine's own, said here).
    from tests.netns import enter_private_network

    why_not = enter_private_network()
    if why_not:
        print(f"# on the machine's own network namespace: {why_not}", file=sys.stderr, flush=True)
    _compile_sources()
    for name in discover(argv):
        t0 = time.monotonic()
        print(f"# {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            produced = module.figures() if hasattr(module, "figures") else module.run()
            for line in produced:
                _emit(line)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc(file=sys.stderr)
            _emit({"name": name, "error": f"{type(exc).__name__}: {exc}"[:2000]})
        print(f"# {name} done in {time.monotonic() - t0:.1f}s", file=sys.stderr, flush=True)
    print(f"# all done in {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
