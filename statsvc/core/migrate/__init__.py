"""Moving from an old counter (DESIGN §9): what an old counter's own storage says, in the
site's calendar (a Snapshot), and the imports that add what a site has not had from it yet.

Pure code. The readers (statsvc.sources) fetch the rows; one module per kind here turns them
into a Snapshot; `plan` compares it with the ledger of what earlier runs added from the same
source, so a second run adds nothing and a run after new rows adds exactly those.
"""

from __future__ import annotations

from statsvc.core.migrate.ledger import Ledger, Snapshot, Step, plan, source_id, summary

KINDS = ("vinaora", "nukeviet", "wp-statistics", "wp-postviews", "post-views-counter", "busuanzi")

__all__ = ["KINDS", "Ledger", "Snapshot", "Step", "plan", "source_id", "summary"]
