"""Covote: live voting for public meetings, with minority protection.

A package per domain, each importing only those below it (docs/developing.md, "The module
map"; enforced by tests/test_layers.py): `core` (vocabulary, bounds, errors), `rules` (the
counting rule, the budget: pure), `record` (the public record's formats and checks), `voting`
(the database and its services), `keypads` and `scrutiny` (tickets, paper), `live` (the wire
protocol and fan-out), `web` and `console` (routes); `main`, `cli` and `config` at the top.
"""
