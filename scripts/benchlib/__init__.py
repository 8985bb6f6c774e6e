"""Covote's benchmark harness (`scripts/bench`): a bare Starlette/uvicorn baseline and Covote,
measured in the same run on the same machine, reported as absolute figures and as ratios.

See ../shared/bench.md for the method. Modules:
- `config`   presets (`--quick`, full) and overrides
- `util`     logging to stderr, percentiles, CPU/RSS meters, a minimal HTTP client, processes
- `clients`  the load client's connections: phones, projector, echo and broadcast sockets
- `bare_app` the baseline server (run under uvicorn with Covote's flags)
- `baseline` the baseline scenarios; `covote` Covote's scenarios
- `report`   table and JSON; `profile` optional py-spy sampling of the server
- `run`      `run_bench(config) -> dict`, what the CLI and the smoke test call
Diagnostics (opt-in, not part of a normal run):
- `memprobe` (--memprobe) tracemalloc: what each joined/connected phone allocates, by site
- `gcprobe`  (--gcprobe) garbage-collector pauses per phase
"""
