"""`staktrakr alert`: one alert pass (run from cron after each crawl slot)."""

from __future__ import annotations

import json

import click

from staktrakr.config import load_section
from staktrakr.timeutil import parse_time, utcnow

from .settings import AlertSettings


def _when(ctx: click.Context, param: click.Parameter, value: str | None):  # noqa: ARG001 - click callback
    if value is None:
        return utcnow()
    try:
        return parse_time(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO-8601 time: {value!r}") from None


@click.command("alert")
@click.option("--dry-run", is_flag=True, help="Print the conditions that hold now; send nothing, change nothing.")
@click.option("--now", "now", callback=_when, metavar="ISO-TIME", help="Judge as of this time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the pass as JSON.")
def alert_command(dry_run: bool, now, as_json: bool) -> None:
    """Announce each new incident once and each recovery once through Apprise (ALERT_URLS)."""
    from staktrakr.config import load_config
    from staktrakr.store import open_database

    from .notify import Notifier
    from .run import alert_pass, conditions_now

    config = load_config()
    settings = load_section(AlertSettings)
    with open_database(config) as db:
        if db.synced:
            db.pull()  # the other poller's rows and incidents first
        if dry_run or not settings.urls():
            holding = conditions_now(db, now, settings)
            if as_json:
                click.echo(json.dumps([{"key": c.key, "message": c.message} for c in holding], indent=2))
            else:
                for condition in holding:
                    click.echo(condition.message)
                why = "dry run" if dry_run else "ALERT_URLS is not set"
                click.echo(f"{len(holding)} condition(s) hold; {why}: nothing sent", err=True)
            return
        notifier = Notifier(settings.urls())
        if notifier.destinations == 0:
            raise click.ClickException(f"none of the {notifier.rejected} ALERT_URLS destination(s) is a URL Apprise knows")
        result = alert_pass(db, now, settings, config.POLLER_ID, notifier.send)
        if db.synced:
            db.push()  # the incident state is shared: the other poller must not announce it again
    if as_json:
        click.echo(json.dumps(result.__dict__, indent=2))
    else:
        for title in result.sent:
            click.echo(f"sent: {title}")
        click.echo(f"{len(result.opened)} new incident(s), {len(result.recovered)} recovered, {len(result.sent)} sent, {len(result.unsent)} not sent")
    if result.unsent:
        raise click.ClickException(f"{len(result.unsent)} notification(s) could not be sent; the next pass tries again")
