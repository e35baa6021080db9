"""`reconciler apply`: make the live account match a saved plan, or the manifests."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from reconciler.apply import ApplyResult, Journal, check_fresh
from reconciler.apply import apply as apply_plan
from reconciler.apply.executor import Event
from reconciler.apply.lock import ApplyLock
from reconciler.apply.secrets import SecretsFile, secret_name
from reconciler.plan import Change, Plan, PlanOptions

from .context import Settings, command_settings, global_options, run
from .plan import plan_from_manifests, plan_options, render
from .summary import append_step_summary
from .types import Duration
from .unlock import holding

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


def _issued_earlier(result: ApplyResult) -> list[str]:
    """The webhook endpoint entries an earlier run of this saved plan created: this run
    skipped them, so their secrets are wherever that run put them."""
    return sorted(c.key for c in result.already_applied if c.kind == "webhook_endpoints"
                  and any(step.produces for step in c.steps))


def _report_secrets(result: ApplyResult, secrets_out: str | None) -> None:
    earlier = _issued_earlier(result)
    if not secrets_out:
        for key in sorted([*result.secrets, *earlier]):
            click.echo(f"webhook_endpoints.{key}: a new signing secret was issued and is "
                       f"not shown. {SECRET_HELP}, or pass --secrets-out FILE.", err=True)
        return
    if result.secrets:
        click.echo(f"Webhook signing secrets written to {secrets_out} "
                   f"({', '.join(secret_name(k) for k in sorted(result.secrets))}).", err=True)
    saved = SecretsFile(secrets_out).names() if earlier else set()
    for key in earlier:
        if secret_name(key) in saved:
            click.echo(f"webhook_endpoints.{key}: created by an earlier run, which wrote its "
                       f"signing secret to {secrets_out} ({secret_name(key)}).", err=True)
        else:
            click.echo(f"webhook_endpoints.{key}: created by an earlier run; its signing "
                       f"secret is not in {secrets_out}. {SECRET_HELP}.", err=True)


def _report(result: ApplyResult, secrets_out: str | None) -> None:
    _report_secrets(result, secrets_out)
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
              help="Save new webhook signing secrets to FILE (mode 0600) as KEY=VALUE lines, "
              "each as soon as Stripe returns it; other lines in FILE are kept.")
@click.option("--lock-timeout", type=Duration(), default="0s", metavar="DURATION",
              help="While another apply of the stack holds the apply lock, wait up to "
              "DURATION (30s, 5m) for it instead of failing at once.")
@global_options
@click.pass_context
def apply(ctx: click.Context, paths, env, var, prune, adopt, stack, force, bulk_threshold,
          auto_approve, parallelism, secrets_out, lock_timeout, **global_values) -> None:
    """Apply a saved plan (PLAN.json), or plan the manifests at PATHS and apply that.

    A saved plan is applied exactly, and refused if an object it would touch changed since
    it was made. From manifests, the plan is shown and confirmed first. One apply at a time
    per account and stack: the apply lock is taken before the plan is made or checked.
    """
    settings = command_settings(ctx, global_values)
    with holding(settings, lock_timeout) as lock:
        _apply(settings, lock, paths, env, var, prune, adopt, stack, force, bulk_threshold,
               auto_approve, parallelism, secrets_out)


def _apply(settings: Settings, lock: ApplyLock, paths, env, var, prune, adopt, stack, force,
           bulk_threshold, auto_approve, parallelism, secrets_out) -> None:
    if _is_saved_plan(paths):
        plan_file = paths[0]
        try:
            plan = Plan.from_dict(json.loads(Path(plan_file).read_text("utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise click.BadParameter(f"{plan_file} is not a saved plan: {exc}",
                                     param_hint="PATHS") from None
        journal = Journal(f"{plan_file}.journal", plan.fingerprint)
        lock.take(plan.stack)  # before the staleness check: a plan made before another
        # apply finished is then refused as stale, not applied a second time
    else:
        lock.take(stack)  # before planning: the plan is made under the lock
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
    on_secret = SecretsFile(secrets_out).save if secrets_out else None

    async def work() -> ApplyResult:
        async with settings.client() as client:
            if journal is not None:
                await check_fresh(plan, client, exempt=journal.touched)
            with _progress(len(plan.pending)) as on_event:
                return await apply_plan(plan, client, allow_live=settings.live,
                                        parallelism=parallelism, journal=journal,
                                        on_event=on_event, on_secret=on_secret)

    _report(run(work), secrets_out)
