"""`reconciler apply`: make the live account match a saved plan, or the manifests."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from reconciler.apply import ApplyResult, Journal, check_fresh
from reconciler.apply import apply as apply_plan
from reconciler.apply.executor import Event
from reconciler.plan import Change, Plan, PlanOptions

from .context import Settings, command_settings, global_options, run
from .plan import plan_from_manifests, plan_options, render
from .summary import append_step_summary

SECRET_HELP = ("Stripe shows a webhook endpoint's signing secret only once; reveal it in the "
               "Dashboard (Developers > Webhooks > the endpoint > Signing secret)")


def _lines(name: str, change: Change, detail: str) -> None:
    """Progress for logs (CI): a line when a change starts, and one when it ends."""
    if name == "start":
        click.echo(f"  {change.action.value} {change.address}...", err=True)
        return
    state = {"done": "done", "skipped": "already applied by an earlier run"}.get(
        name, f"FAILED: {detail}")
    click.echo(f"  {change.address}: {state}", err=True)


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Event]:
    """Progress on stderr (stdout ends with the summary, for scripts): on a terminal one bar
    redrawn in place, naming the change that finished last (the report after it names what
    failed); elsewhere, such as CI logs, where a redrawn line is noise, plain lines."""
    if not sys.stderr.isatty():
        yield _lines
        return
    with click.progressbar(length=total, label="Applying", file=sys.stderr, show_pos=True,
                           item_show_func=lambda address: address) as bar:
        def advance(name: str, change: Change, detail: str) -> None:
            if name != "start":
                bar.update(1, change.address)
        yield advance


def secret_name(key: str) -> str:
    return "STRIPE_WEBHOOK_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", key).upper()


def write_secrets(path: str, secrets: dict[str, str]) -> None:
    """KEY=VALUE lines in a file only its owner can read (created 0600, never widened)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        for key, secret in sorted(secrets.items()):
            fh.write(f"{secret_name(key)}={secret}\n")
    os.chmod(path, 0o600)


def _report(result: ApplyResult, secrets_out: str | None) -> None:
    if result.secrets:
        if secrets_out:
            write_secrets(secrets_out, result.secrets)
            click.echo(f"Webhook signing secrets written to {secrets_out} "
                       f"({', '.join(secret_name(k) for k in sorted(result.secrets))}).", err=True)
        else:
            for key in sorted(result.secrets):
                click.echo(f"webhook_endpoints.{key}: a new signing secret was issued and is "
                           f"not shown. {SECRET_HELP}, or pass --secrets-out FILE.", err=True)
    if result.ok:
        click.echo(f"Apply complete: {result.summary()}.")
        append_step_summary(f"**reconciler apply**: complete: {result.summary()}.\n")
        return
    append_step_summary(f"**reconciler apply** failed: {result.summary()} before the failure; "
                        f"{len(result.not_attempted)} change(s) not attempted.\n")
    for change, error in result.failed:
        click.echo(f"Error: {change.address}: {error}", err=True)
    click.echo(f"Apply stopped: {result.summary()} before the failure.", err=True)
    for title, changes in (("Applied", result.applied),
                           ("Failed", [c for c, _ in result.failed]),
                           ("Not attempted", result.not_attempted)):
        if changes:
            in_order = sorted(changes, key=lambda c: (c.phase, c.address))  # not finish order
            click.echo(f"{title} ({len(changes)}): " + ", ".join(c.address for c in in_order),
                       err=True)
    click.echo("Changes not listed as applied were not completed, though a failed request "
               "may still have reached Stripe. Fix the cause and run apply again: it resumes "
               "where this run stopped and creates nothing twice.", err=True)
    raise SystemExit(1)


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        click.echo("Error: not asking for confirmation without a terminal; pass "
                   "--auto-approve (or save the plan with `plan -o` and apply the file).",
                   err=True)
        raise SystemExit(1)
    answer = click.prompt("Apply these changes? Only 'yes' is accepted", default="",
                          show_default=False, err=True)
    if answer.strip() != "yes":
        click.echo("Apply cancelled; nothing was changed.", err=True)
        raise SystemExit(1)


def _guard_live(plan: Plan, settings: Settings) -> None:
    if plan.livemode and not settings.live:
        click.echo(f"Error: this plan changes the LIVE account {plan.account_id}; nothing was "
                   "written. Pass --live to allow changes to a live account.", err=True)
        raise SystemExit(1)


def _is_saved_plan(paths: tuple[str, ...]) -> bool:
    return len(paths) == 1 and paths[0].endswith(".json") and Path(paths[0]).is_file()


@click.command()
@plan_options
@click.option("--auto-approve", is_flag=True,
              help="Apply without asking (for CI). Without it apply asks on a terminal and "
              "refuses otherwise.")
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Independent changes sent at once (all within the client's rate limit).")
@click.option("--secrets-out", type=click.Path(dir_okay=False),
              help="Append new webhook signing secrets to FILE (mode 0600) as KEY=VALUE lines.")
@global_options
@click.pass_context
def apply(ctx: click.Context, paths, env, var, prune, adopt, stack, force, bulk_threshold,
          auto_approve, parallelism, secrets_out, **global_values) -> None:
    """Apply a saved plan (PLAN.json), or plan the manifests at PATHS and apply that.

    A saved plan is applied exactly, and refused if an object it would touch changed since
    it was made. From manifests, the plan is shown and confirmed first.
    """
    settings = command_settings(ctx, global_values)
    if _is_saved_plan(paths):
        plan_file = paths[0]
        try:
            plan = Plan.from_dict(json.loads(Path(plan_file).read_text("utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise click.BadParameter(f"{plan_file} is not a saved plan: {exc}",
                                     param_hint="PATHS") from None
        journal = Journal(f"{plan_file}.journal", plan.fingerprint)
    else:
        options = PlanOptions(stack=stack, prune=prune, adopt=adopt, force=force,
                              bulk_threshold=bulk_threshold)
        plan = run(lambda: plan_from_manifests(settings, paths, env, var, options))
        click.echo(render(plan, "text", settings.verbose), nl=False)
        append_step_summary(render(plan, "markdown", settings.verbose))
        journal = None
    if not plan.has_changes:
        click.echo("Apply complete: nothing to do.")
        return
    _guard_live(plan, settings)
    if journal is None:
        _confirm(auto_approve)

    async def work() -> ApplyResult:
        async with settings.client() as client:
            if journal is not None:
                await check_fresh(plan, client, exempt=journal.touched)
            with _progress(len(plan.pending)) as on_event:
                return await apply_plan(plan, client, allow_live=settings.live,
                                        parallelism=parallelism, journal=journal,
                                        on_event=on_event)

    _report(run(work), secrets_out)
