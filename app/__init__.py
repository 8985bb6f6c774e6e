"""Covote: live voting for public meetings, with minority protection.

Layout (one module per concept):
- pure core: `tally` (counting rule), `records` (public file formats), `protocol` (wire)
- services: `meetings` (set-up), `rounds` (state, results), `voters`, `ballots` (cast path)
- edges: `db`, `hub` (live fan-out), `ws`, `api`, `pages`, `console`, `cli`
"""
