"""Campaigns as background jobs (the app's job pool, ``matloop jobs run run-campaign name=...``)."""

from __future__ import annotations

from typing import Any

from engine.campaigns.campaign import Campaign
from engine.runtime.executors import make_executor
from engine.runtime.jobs import JobCancelled, JobContext

__all__ = ["campaign_job"]


def campaign_job(ctx: JobContext, name: str, executor: str = "local") -> dict[str, Any]:
    """Run (or resume) campaign ``name`` until its budget is spent or the job is cancelled.

    Cancelling the job pauses the campaign after the labels in flight; a later job resumes it.

    Returns
    -------
    dict
        The campaign's :meth:`~engine.campaigns.campaign.Campaign.status` after the run.
    """
    campaign = Campaign.open(ctx.store, name)
    try:
        ctx.progress(campaign.spent / campaign.config.budget, f"campaign {name}: {campaign.spent} solver calls so far"
                     + ("; rebuilding its strategy from them" if campaign.spent else ""))
        with make_executor(executor) as pool:
            state = campaign.run(pool, progress=ctx.progress, should_stop=ctx.cancelled)
    except JobCancelled:  # the progress report saw the cancellation: the campaign paused
        state = "paused"
    if state == "paused":
        raise JobCancelled(f"campaign {name} paused: {campaign.stop_note()}; "
                           "resuming it continues from there")
    return campaign.status()
