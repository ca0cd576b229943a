"""Benchmarks of the agent, each compared with a bare aiohttp baseline measured in the same run.
Run `python -m bench` from the repository root; see bench/README.md."""
