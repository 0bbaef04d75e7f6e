"""`staktrakr shards`: which shard of a poller group crawls which dealer, and which shard went silent."""

from __future__ import annotations

import json
from datetime import timedelta

import click
from rich.table import Table

from ..timeutil import ago, iso_ms, utcnow
from .context import CommandContext, console, pass_context, pull_first


@click.command("shards")
@click.option("--count", type=click.IntRange(min=1, max=64), help="Share the dealers out among this many shards (default: this poller's STAKTRAKR_SHARD count, else the count the runs show).")
@click.option("--silent-after", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              help="Minutes after which a shard that missed its group's latest cycle, or is still running, counts as silent.")  # fmt: skip
@click.option("--job", default="retail", show_default=True, help="The sharded job whose runs are read.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@pass_context
def shards_command(ctx: CommandContext, count: int | None, silent_after: float, job: str, as_json: bool) -> None:
    """Dealers per shard (rendezvous hashing of dealer ids) and each shard's last run."""
    from ..providers import resolve_providers
    from ..shards import assignment, shard_of, shard_states
    from ..store import open_database
    from ..store.runs import runs_of_shards

    now = utcnow()
    with open_database(ctx.config) as db:
        pull_first(db)  # the other shards' runs reach this database through the remote
        providers = resolve_providers(ctx.config, db)
        runs = runs_of_shards(db, job, iso_ms(ago(now, days=7)))
    states = shard_states(runs, now, timedelta(minutes=silent_after))
    own = shard_of(ctx.config)
    count = count or (own.count if own else None) or max((int(s.shard.split("/")[1]) for s in states), default=1)
    targets = providers.targets()
    shares = assignment((t.vendor for t in targets), count)
    per_dealer: dict[str, int] = {}
    for target in targets:
        per_dealer[target.vendor] = per_dealer.get(target.vendor, 0) + 1
    if as_json:
        click.echo(json.dumps({
            "count": count,
            "this_process": own.label if own else None,
            "dealers": {str(i): share for i, share in shares.items()},
            "targets": {str(i): sum(per_dealer[d] for d in share) for i, share in shares.items()},
            "shards": [s.model_dump() for s in states],
        }, indent=2))  # fmt: skip
        return
    where = f"this process is shard {own.label}" if own else "this process is not sharded"
    console.print(f"{len(per_dealer)} dealers, {len(targets)} targets ({providers.source}) over {count} shard(s); {where}")
    share_table = Table("shard", "dealers", "targets", "dealer ids", title="who crawls what (each group)")
    for index, share in shares.items():
        share_table.add_row(f"{index}/{count}", str(len(share)), str(sum(per_dealer[d] for d in share)), ", ".join(share))
    console.print(share_table)
    if not states:
        console.print(f"no sharded {job} runs in the last 7 days")
        return
    run_table = Table("group", "shard", "state", "last run started", "targets", "note", title=f"last {job} run per shard")
    for state in states:
        style = "bold red" if state.state == "silent" else ""
        run_table.add_row(state.group, state.shard, f"[{style}]{state.state}[/]" if style else state.state,
                          state.started_at or "-", "-" if state.total is None else str(state.total), state.note)  # fmt: skip
    console.print(run_table)
