"""The plan's indicators with pandas, over the typed form tables.

Nothing here speaks HTTP, Central or FastAPI, nor imports ``server``: callers
hand in DataFrames (or a database URL to ``sources.read_form_tables``) and get
back figures with their warnings.

- ``catalogue``: every indicator of the plan and its targets, by plan section.
- ``periods``: years, quarters, months and campaign rounds.
- ``units``: the 2016-2020 districts and communes.
- ``forms``: typed tables to per-record flags, dates, cases.
- ``indicators``: ``compute_indicators``, by period, unit, sex and age group.
- ``suppression``: small cells and their complements.
- ``progress``: target, gap and on-track.
- ``output``: table, CSV (Excel), JSON, snapshot fingerprint.
"""
