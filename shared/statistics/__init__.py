"""Public statistics of the complaints, kept up to date from the ticket events.

- `projection`: the pure rules: events, a ticket's facts, its contribution to a cell, and the
  merges of the stored documents that make replays, reordering and races harmless.
- `figures`: the pure arithmetic from stored totals to published figures and tables.
- `charts`: server-rendered SVG charts.
- `store`: the MongoDB documents (routing writes them, intake and the console read them).

docs/statistics.md describes the design and the published schema.
"""
