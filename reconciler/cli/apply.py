"""`reconciler apply`: make the live account match a saved plan, or the manifests."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import click

from reconciler import plural
from reconciler.apply import (
    ApplyResult,
    Journal,
    check_expected,
    check_file,
    check_fresh,
    check_rebuilt,
)
from reconciler.apply import apply as apply_plan
from reconciler.apply.executor import Event, SecretNotSavedError
from reconciler.apply.lock import ApplyLock, LockLost
from reconciler.apply.secrets import SecretsFile, secret_name
from reconciler.kinds import KINDS
from reconciler.kinds.webhook_endpoints import SECRETS_HINT
from reconciler.permissions import explain, permission_in
from reconciler.plan import Change, OutdatedPlanError, Plan, PlanOptions
from reconciler.stripe import PermissionDeniedError, StripeError

from .context import Settings, command_settings, global_options, run
from .fleet import Fleet, fleet_apply, load_fleet_plan
from .interrupt import Interrupt
from .options import fleet_options
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


def _secret_address(key: str) -> str:
    """The address of the entry ``key`` whose secret an apply kept: secrets are kept by
    manifest key, as only one kind (webhook endpoints) issues them."""
    (kind_name,) = (k.name for k in KINDS.values() if k.issues_secret)
    return f"{kind_name}.{key}"


def _creates_endpoint(change: Change) -> bool:
    return KINDS[change.kind].issues_secret and any(step.produces for step in change.steps)


def _issued_earlier(result: ApplyResult) -> list[str]:
    """The webhook endpoint entries an earlier run of this saved plan created: this run
    skipped them, so their secrets are wherever that run put them."""
    return sorted(c.key for c in result.already_applied if _creates_endpoint(c))


def _check_secrets_out(secrets_out: str | None) -> None:
    """Before anything is written to Stripe: a secret the file cannot take is lost."""
    if not secrets_out:
        return
    try:
        SecretsFile(secrets_out).check()
    except OSError as exc:
        click.echo(f"Error: --secrets-out: {exc}; nothing was written to Stripe.", err=True)
        raise SystemExit(1) from None


@contextlib.contextmanager
def _unsaved_notices(secrets_out: str | None) -> Iterator[Callable[[Event], Event]]:
    """Says that a created endpoint's secret is not saved as soon as its create is done, so
    that a run interrupted later has said it too: the run that skips a finished create does
    not say it again. In logs at once; on a terminal, where the progress bar owns the line,
    when the bar closes (also on an interruption): enter this before the progress."""
    pending: list[str] = []

    def flush() -> None:
        while pending:
            click.echo(pending.pop(0), err=True)

    def wrap(on_event: Event) -> Event:
        def event(name: str, change: Change, detail: str) -> None:
            on_event(name, change, detail)
            if not secrets_out and name == "done" and _creates_endpoint(change):
                pending.append(f"{change.address}: created; its signing secret is not saved "
                               "(no --secrets-out).")
                if not sys.stderr.isatty():
                    flush()
        return event

    try:
        yield wrap
    finally:
        flush()


def _not_saved(result: ApplyResult, secrets_out: str, saved_plan: bool) -> None:
    """How to recover each endpoint created this run whose secret the file did not take."""
    for change, error in result.failed:
        if not isinstance(error, SecretNotSavedError):
            continue
        retry = ("Run this same saved plan again within 24 hours: Stripe replays the create "
                 "with its secret, which is then saved. Otherwise: " if saved_plan else "")
        record = ("Every plan names it until this is resolved (tag reconciler_secret_unsaved)"
                  if error.recorded else "Note its id now: it could not be tagged "
                  "reconciler_secret_unsaved either, so later runs will not say so")
        click.echo(f"{change.address}: {error.endpoint} was created, but its signing secret "
                   f"was NOT saved to {secrets_out}. {record}. {retry}reveal or roll the "
                   "secret in the Dashboard (Developers > Webhooks > the endpoint > Signing "
                   "secret), or delete the endpoint and apply again.", err=True)


def _report_secrets(result: ApplyResult, secrets_out: str | None, saved_plan: bool) -> None:
    """Names exactly the endpoints created whose secret was not saved, and where saved ones
    went; an endpoint an earlier run created is its run's to report, unless a file is given
    that should hold its secret and does not."""
    if not secrets_out:
        unsaved = sorted(_secret_address(key) for key in result.secrets)
        if unsaved:
            click.echo(f"Signing secrets not saved ({len(unsaved)}): {', '.join(unsaved)}. "
                       f"{SECRET_HELP}, or pass --secrets-out FILE.", err=True)
        return
    if result.secrets:
        click.echo(f"Webhook signing secrets written to {secrets_out} "
                   f"({', '.join(secret_name(k) for k in sorted(result.secrets))}).", err=True)
    _not_saved(result, secrets_out, saved_plan)
    earlier = _issued_earlier(result)
    saved = SecretsFile(secrets_out).names() if earlier else set()
    for key in earlier:
        if secret_name(key) in saved:
            click.echo(f"{_secret_address(key)}: created by an earlier run, which wrote its "
                       f"signing secret to {secrets_out} ({secret_name(key)}).", err=True)
        else:
            click.echo(f"{_secret_address(key)}: created by an earlier run; its signing "
                       f"secret is not in {secrets_out}. {SECRET_HELP}.", err=True)


def _report_failures(failed: list[tuple[Change, StripeError | OSError]]) -> None:
    """One line per failure; the changes a restricted key refused for the same missing
    permission share one line, which says what the key lacks and how to fix it."""
    denied: dict[str, list[tuple[Change, PermissionDeniedError]]] = {}
    for change, error in failed:
        if isinstance(error, PermissionDeniedError):
            needed = permission_in(error.message or "")
            denied.setdefault(needed.name if needed else str(error), []).append((change, error))
        else:
            click.echo(f"Error: {change.address}: {error}", err=True)
    for refused in denied.values():
        addresses = ", ".join(sorted(change.address for change, _ in refused))  # not finish order
        click.echo(f"Error: {addresses}: {explain(refused[0][1])}", err=True)


def _report(result: ApplyResult, secrets_out: str | None, interrupt: Interrupt,
            journal: Journal | None, lost: LockLost | None) -> None:
    _report_secrets(result, secrets_out, journal is not None)
    if lost is not None:
        _report_lost(result, lost)
        raise SystemExit(1)
    if result.ok:
        click.echo(f"Apply complete: {result.summary()}.")
        append_step_summary(f"**reconciler apply**: complete: {result.summary()}.\n")
        return
    if interrupt.received and not result.failed:
        _report_interrupted(result, interrupt.received.name, journal)
        raise SystemExit(interrupt.exit_code)
    append_step_summary(f"**reconciler apply** failed: {result.summary()} before the failure; "
                        f"{not_attempted(result)}.\n")
    _report_failures(result.failed)
    click.echo(f"Apply stopped: {result.summary()} before the failure.", err=True)
    _list_outcomes(result)
    click.echo("Changes not listed as applied were not completed, though a failed request "
               "may still have reached Stripe. Fix the cause and run apply again: it resumes "
               "where this run stopped and creates nothing twice.", err=True)
    raise SystemExit(1)


def not_attempted(result: ApplyResult) -> str:
    """``2 changes not attempted``: what a stopped apply leaves for the next run."""
    return f"{plural.count(len(result.not_attempted), 'change')} not attempted"


def _report_interrupted(result: ApplyResult, signal_name: str, journal: Journal | None) -> None:
    if journal is None:
        rerun = ("Run the same apply again: it plans from what is live now and applies the "
                 "rest.")
    else:
        rerun = (f"Run the same saved plan again: it resumes from its journal "
                 f"({journal.path}) and sends nothing twice.")
    _report_stopped(result, f"interrupted ({signal_name})", f"Apply interrupted "
                    f"({signal_name})", rerun)


def _report_lost(result: ApplyResult, lost: LockLost) -> None:
    """The lease was lost while writing: the executor stopped as on Ctrl-C (see lock.py), so
    what it did is known and is listed."""
    click.echo(f"Error: {lost}.", err=True)
    _report_failures(result.failed)
    _report_stopped(result, "lost the apply lock", "Apply stopped without its lock",
                    "Another run may have changed the account since: once the lock is free, "
                    "plan again from the manifests.")


def _report_stopped(result: ApplyResult, summary: str, headline: str, then: str) -> None:
    """An apply stopped before its end with every started change finished: what it did,
    what it did not start, and ``then``, what to do next."""
    stopped = f"{result.summary()}; {not_attempted(result)}"
    append_step_summary(f"**reconciler apply** {summary}: {stopped}.\n")
    click.echo(f"{headline}: {stopped}.", err=True)
    _list_outcomes(result)
    click.echo("Every change listed as applied is complete, and none of those not attempted "
               f"was sent. {then}", err=True)


def _forced_note(journal: Journal | None) -> str:
    """What a re-run does after the second signal abandoned requests in flight."""
    if journal is None:
        return ("Run the same apply again: it plans from what is live now, so an object such "
                "a request created is found, not created twice, and it applies the rest.")
    return (f"Run the same saved plan again: it resumes from its journal ({journal.path}), and "
            "the idempotency keys make a request that did reach Stripe replay its answer "
            "instead of acting twice.")


def _list_outcomes(result: ApplyResult) -> None:
    if not result.applied:
        click.echo("Applied: nothing.", err=True)
    for title, changes in (("Applied", result.applied),
                           ("Failed", [c for c, _ in result.failed]),
                           ("Not attempted", result.not_attempted)):
        if changes:
            in_order = sorted(changes, key=lambda c: (c.phase, c.address))  # not finish order
            click.echo(f"{title} ({len(changes)}): " + ", ".join(c.address for c in in_order),
                       err=True)


def _shown(plan: Plan, secrets_out: str | None) -> Plan:
    """The plan as this apply shows it: given --secrets-out, the hint to pass it says where
    the secrets go instead."""
    if not secrets_out:
        return plan
    return replace(plan, warnings=tuple(
        w.replace(SECRETS_HINT, f"it is saved to {secrets_out}") for w in plan.warnings))


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        click.echo("Error: not asking for confirmation without a terminal; pass "
                   "--auto-approve (or save the plan with `plan -o` and apply the file).",
                   err=True)
        raise SystemExit(1)
    try:
        answer = click.prompt("Apply these changes? Only 'yes' is accepted", default="",
                              show_default=False, err=True)
    except click.exceptions.Abort:  # Ctrl-C or end of input, before anything was written
        click.echo(err=True)
        answer = ""
    if answer.strip() != "yes":
        click.echo("Apply cancelled; nothing was changed.", err=True)
        raise SystemExit(1)


def _guard_live(plan: Plan, settings: Settings) -> None:
    if plan.livemode and not settings.live:
        click.echo(f"Error: this plan changes the LIVE account {plan.account_id}; nothing was "
                   "written. Pass --live to allow changes to a live account.", err=True)
        raise SystemExit(1)


SHAPING = ("env", "var", "prune", "adopt", "stack", "force", "bulk_threshold")
"""The options that shape a plan: a saved plan was shaped when it was made."""


def _saved_plan(ctx: click.Context, paths: tuple[str, ...]) -> str | None:
    """The saved plan file among ``paths``, if any; a usage error if anything that would
    shape a plan is given with it, as Terraform refuses variables with a saved plan."""
    plans = [p for p in paths if p.endswith(".json") and Path(p).is_file()]
    if not plans:
        return None
    given = [param.opts[0] for param in ctx.command.params if param.name in SHAPING
             and ctx.get_parameter_source(param.name) is click.core.ParameterSource.COMMANDLINE]
    if len(paths) > 1:
        given.append("more paths")
    if given:
        raise click.UsageError(f"{', '.join(given)} cannot be given with a saved plan "
                               f"({plans[0]}): it is applied exactly as it was planned and "
                               "reviewed. To change it, make a new plan with them "
                               "(`reconciler plan ... -o plan.json`)")
    return plans[0]


def _load(plan_file: str, stack: str | None) -> tuple[Plan, dict]:
    """The saved plan and its JSON; ``stack`` is RECONCILER_STACK's, when set."""
    try:
        data = json.loads(Path(plan_file).read_text("utf-8"))
        plan = Plan.from_dict(data)
    except OutdatedPlanError as exc:
        raise click.BadParameter(f"{plan_file} cannot be applied: {exc}; nothing was sent",
                                 param_hint="PATHS") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise click.BadParameter(f"{plan_file} is not a saved plan: {exc}",
                                 param_hint="PATHS") from None
    if stack is not None and stack != plan.stack:
        raise click.UsageError(f"RECONCILER_STACK is '{stack}', but the saved plan "
                               f"{plan_file} is for stack '{plan.stack}'; unset it, or make "
                               "a new plan for that stack")
    return plan, data


async def _offline(plan: Plan, data: dict | None, expected: str | None) -> None:
    """The checks before any request: of the saved file (``data``), and the approved digest."""
    if data is not None:
        check_file(plan, data)
    check_expected(plan, expected)


@click.command()
@plan_options
@click.option("--auto-approve", is_flag=True,
              help="Apply without asking (for CI). Without it apply asks on a terminal and "
              "refuses otherwise.")
@click.option("--parallelism", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Independent changes sent at once, each one request at a time, within "
              "the client's rate limits. The default leaves most of a live account's budget "
              "(100 requests/s) to its other traffic; to use it all, about the rate times "
              "the time per request: 32 at 300 ms (docs/concepts.md#plans).")
@click.option("--secrets-out", type=click.Path(dir_okay=False),
              help="Save new webhook signing secrets to FILE (mode 0600) as KEY=VALUE lines, "
              "each as soon as Stripe returns it; other lines in FILE are kept.")
@click.option("--expect-digest", metavar="DIGEST",
              help="Refuse the plan unless its reviewed digest (printed by `plan`) is DIGEST: "
              "apply only the plan that was approved.")
@click.option("--lock-timeout", type=Duration(), default="0s", metavar="DURATION",
              help="While another apply of the stack holds the apply lock, wait up to "
              "DURATION (30s, 5m) for it instead of failing at once.")
@fleet_options
@global_options
@click.pass_context
def apply(ctx: click.Context, paths, env, var, prune, adopt, stack, force, bulk_threshold,
          auto_approve, parallelism, secrets_out, expect_digest, lock_timeout,
          **global_values) -> None:
    """Apply a saved plan (PLAN.json), or plan the manifests at PATHS and apply that.

    A saved plan is applied exactly, and refused if an object it would touch changed since
    it was made, or if its requests are not what its manifests imply. From manifests, the
    plan is shown and confirmed first. One apply at a time per account and stack: the apply
    lock is taken before the plan is made or checked.
    """
    fleet = Fleet.pop(global_values)
    settings = command_settings(ctx, global_values)
    # as many requests in flight as changes run (each sends one at a time), or a higher
    # --parallelism would only queue in the client
    settings = replace(settings, max_concurrency=max(parallelism, settings.max_concurrency))
    _check_secrets_out(secrets_out)
    plan_file = _saved_plan(ctx, paths)
    options = PlanOptions(stack=stack, prune=prune, adopt=adopt, force=force,
                          bulk_threshold=bulk_threshold)
    saved_fleet = load_fleet_plan(plan_file) if plan_file else None
    if fleet.requested or saved_fleet is not None:
        if secrets_out or expect_digest:
            raise click.UsageError("--secrets-out and --expect-digest are not available "
                                   "across targets yet")
        fleet_apply(settings, fleet, saved_fleet, plan_file, paths, env, var, options,
                    auto_approve, parallelism, lock_timeout)
        return
    saved: Plan | None = None
    if plan_file is not None:
        from_env = ctx.get_parameter_source("stack") is click.core.ParameterSource.ENVIRONMENT
        saved, data = _load(plan_file, stack if from_env else None)
        run(lambda: _offline(saved, data, expect_digest))
        click.echo(f"Saved plan {plan_file}: reviewed digest {saved.reviewed_digest}", err=True)
    with holding(settings, lock_timeout) as lock:
        _apply(settings, lock, plan_file, saved, paths, env, var, options, auto_approve,
               parallelism, secrets_out, expect_digest)


async def _verify(settings: Settings, plan: Plan, plan_file: str, journal: Journal) -> None:
    """The saved plan against the account, reading only: still fresh, and (unless this
    exact plan was verified before its first write, see verify.py) what its manifests imply."""
    async with settings.client() as client:
        await check_fresh(plan, client, exempt=journal.touched)
        if not journal.verified:
            await check_rebuilt(plan, client, plan_file)


def _apply(settings: Settings, lock: ApplyLock, plan_file: str | None, saved: Plan | None,
           paths, env, var, options: PlanOptions, auto_approve: bool, parallelism: int,
           secrets_out: str | None, expect_digest: str | None) -> None:
    journal: Journal | None = None
    if plan_file is not None and saved is not None:
        plan = saved
        journal = Journal(f"{plan_file}.journal", plan.fingerprint)
        if plan.has_changes:
            _guard_live(plan, settings)
        run(lambda: _verify(settings, plan, plan_file, journal))  # an edited plan writes
        # nothing, not even the lock
        lock.take(plan.stack)  # before the staleness check below: a plan made before
        # another apply finished is then refused as stale, not applied a second time
    else:
        lock.take(options.stack)  # before planning: the plan is made under the lock
        plan = run(lambda: plan_from_manifests(settings, paths, env, var, options))
        shown = _shown(plan, secrets_out)
        click.echo(render(shown, "text", settings.verbose), nl=False)
        append_step_summary(render(shown, "markdown", settings.verbose))
        run(lambda: _offline(plan, None, expect_digest))
    if not plan.has_changes:
        click.echo("Apply complete: nothing to do.")
        return
    _guard_live(plan, settings)
    if journal is None:
        _confirm(auto_approve)
    on_secret = SecretsFile(secrets_out).save if secrets_out else None
    interrupt = Interrupt()

    async def work() -> ApplyResult:
        async with settings.client() as client:
            if journal is not None:
                await check_fresh(plan, client, exempt=journal.touched)
                if not journal.verified:
                    journal.verified_now()
            with _unsaved_notices(secrets_out) as notice, \
                    _progress(len(plan.pending)) as on_event:
                return await apply_plan(plan, client, allow_live=settings.live,
                                        parallelism=parallelism, journal=journal,
                                        on_event=notice(on_event), on_secret=on_secret,
                                        stop=lambda: interrupt.requested() or lock.stop())

    with lock.writing():
        result = interrupt.run(work, forced_note=_forced_note(journal))
    _report(result, secrets_out, interrupt, journal, lock.lost)
