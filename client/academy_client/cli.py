"""The ``academy`` command: sign in, pull a lab, test it locally, submit, follow and fetch runs."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import socket
import sys
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from academy_client import __version__
from academy_client.api import Api
from academy_client.config import (
    config_load,
    config_path,
    config_remove,
    config_save,
    settings_resolve,
    url_normalise,
)
from academy_client.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_PASSED,
    EXIT_PASSED,
    AcademyError,
    AuthFailed,
    NotFound,
    Rejected,
    UsageError,
)
from academy_client.progress import terminal_display
from academy_client.submission import (
    lab_fetch,
    params_parse,
    run_follow,
    submission_upload,
    summary,
    summary_text,
    wait_timeout,
)

EXIT_CODES = """exit status:
  0  passed (submit --wait, test); done (the other commands)
  1  not passed: the run failed, timed out or scored below the threshold (or --wait gave up)
  2  rejected: the platform refused the submission (its errors are printed), the daily quota,
     an unknown lab; for test, what the platform would refuse
  3  usage, connection or authentication error (a wrong option, no such file, the platform
     unreachable, a token that is invalid or revoked: run academy login)
"""
ARTIFACTS = (("weights", "model.pt", "weights/"), ("log", "log.txt", "log/"), ("metrics", "metrics.csv", "metrics.csv"))


class Parser(argparse.ArgumentParser):
    """argparse with exit status 3 for a usage error (argparse's own 2 means "rejected" here)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def api_for(args: argparse.Namespace) -> Api:
    settings = settings_resolve(args.url)
    return Api(settings.url, settings.token)


def text_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: Sequence[str], rows: list[Sequence[Any]]) -> str:
    cells = [[str(value) for value in row] for row in [headers, *rows]]
    widths = [max(text_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell + " " * (widths[i] - text_width(cell)) for i, cell in enumerate(row)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def threshold_text(lab: dict[str, Any]) -> str:
    sign = "≥" if lab.get("higher_is_better", True) else "≤"
    return f"{sign} {lab.get('threshold')}"


def read_solution(path: Path) -> bytes:
    if not path.is_file():
        raise UsageError(f"{path} is not a file")
    return path.read_bytes()


# --- login, logout ---------------------------------------------------------------------


def cmd_login(args: argparse.Namespace) -> int:
    try:
        stored = config_load()
    except UsageError:  # a damaged file: signing in again replaces it
        stored = {}
    url = args.url or os.environ.get("ACADEMY_URL") or stored.get("url")
    url = url_normalise(url or _ask("Platform URL (e.g. http://localhost:8000): ", "the URL"))
    if args.token:
        token = args.token
    else:
        username = args.username or _ask("Username: ", "the username")
        password = args.password or _ask_secret("Password: ")
        token = _token_create(url, username, password)
    try:
        me = _whoami(Api(url, token))
    except AuthFailed:
        raise AuthFailed(f"{url} refused this token (invalid or revoked): make a new one on your tokens page") from None
    path = config_save({"url": url, "token": token})
    err(f"signed in to {url} as {me}; the token is in {path} (readable by you only)")
    return EXIT_PASSED


def _ask(prompt: str, what: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError(f"{what} is missing, and there is no terminal to ask on: pass it as an option")
    answer = input(prompt).strip()
    if not answer:
        raise UsageError(f"no {what.removeprefix('the ')} entered")
    return answer


def _ask_secret(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError("no password, and no terminal to ask on: pass --password (or --token)")
    answer = getpass.getpass(prompt)
    if not answer:
        raise UsageError("no password entered")
    return answer


def _token_create(url: str, username: str, password: str) -> str:
    api = Api(url)
    name = f"academy CLI on {socket.gethostname()}"
    try:
        answer = api.json("POST", "auth/token/", {"username": username, "password": password, "name": name})
    except Rejected as rejected:
        raise AuthFailed("sign-in refused: " + " ".join(rejected.errors)) from None
    except NotFound:
        raise UsageError(f"{url} has no token endpoint (/api/v1/auth/token/): is it the platform's address?") from None
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise AuthFailed(f"{url} answered the sign-in without a token")
    return token


def _whoami(api: Api) -> str:
    """Check the token: the user's name (``/me/``), or "you" where only the labs can tell."""
    try:
        me = api.get("me/")
    except NotFound:
        api.get("labs/")
        return "you"
    return str(me.get("username") or "you") if isinstance(me, dict) else "you"


def cmd_logout(args: argparse.Namespace) -> int:
    path = config_path()
    try:
        stored = config_load(path)
    except UsageError:  # damaged: removed all the same
        stored = {}
    if not config_remove(path):
        err(f"not signed in ({path} does not exist)")
        return EXIT_PASSED
    where = f" at {stored['url']}/accounts/tokens/" if stored.get("url") else " on your tokens page"
    err(f"signed out: removed {path}. The token itself stays valid until you revoke it{where}.")
    return EXIT_PASSED


# --- labs, pull ----------------------------------------------------------------------------


def cmd_labs(args: argparse.Namespace) -> int:
    labs = list(api_for(args).items("labs/"))
    if args.json:
        print(json.dumps(labs))
        return EXIT_PASSED
    rows = [
        (lab["slug"], lab.get("title", ""), lab.get("metric", ""), threshold_text(lab), lab.get("device_class", ""))
        for lab in labs
    ]
    print(table(("slug", "title", "metric", "threshold", "device"), rows) if rows else "no labs open")
    return EXIT_PASSED


def lab_readme(lab: dict[str, Any]) -> str:
    params = lab.get("params") or {}
    lines = [
        f"# {lab.get('title') or lab['slug']}",
        "",
        (lab.get("description") or "").strip(),
        "",
        "---",
        "",
        f"- Lab: `{lab['slug']}`, metric `{lab.get('metric')}`, pass mark {threshold_text(lab)}",
        f"- Runs on: {lab.get('device_class')}, at most {lab.get('wall_seconds')} s and {lab.get('memory_mb')} MB",
        f"- Runs per day: {lab.get('submissions_per_day')}",
    ]
    if params:
        lines += ["", "| parameter | type | default | range |", "|---|---|---|---|"]
        lines += [
            f"| `{name}` | {rule.get('type')} | {rule.get('default')} | {rule.get('min')} to {rule.get('max')} |"
            for name, rule in params.items()
        ]
    lines += [
        "",
        "```bash",
        f"academy test {lab['slug']} {lab['slug']}/solution.py     # on the validation split, here",
        f"academy submit {lab['slug']} {lab['slug']}/solution.py --wait",
        "```",
        "",
    ]
    return "\n".join(lines)


def cmd_pull(args: argparse.Namespace) -> int:
    api = api_for(args)
    try:
        lab = api.get(f"labs/{args.lab}/")
    except NotFound:
        raise UsageError(f"no published lab {args.lab!r} on {api.url} (academy labs lists them)") from None
    folder = Path(args.dir or args.lab)
    folder.mkdir(parents=True, exist_ok=True)
    solution = folder / "solution.py"
    if solution.exists() and not args.force:
        err(f"kept {solution} (it exists; --force replaces it with the starter code)")
    else:
        solution.write_text(lab.get("starter_code") or "", encoding="utf-8")
        err(f"wrote {solution} (the starter code)")
    (folder / "README.md").write_text(lab_readme(lab), encoding="utf-8")
    (folder / "lab.json").write_text(json.dumps(lab, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    err(f"wrote {folder / 'README.md'} and {folder / 'lab.json'}")
    data = folder / "data.npz"
    try:
        digest, headers = api.download(f"labs/{args.lab}/data/", data, digest_header="X-Dataset-SHA256")
    except NotFound:
        err(f"no data: {api.url} does not offer this lab's data (GET /api/v1/labs/{args.lab}/data/ answered 404)")
        return EXIT_ERROR
    checked = "checked" if headers.get("X-Dataset-SHA256") else "not checked: the platform sent no X-Dataset-SHA256"
    err(f"wrote {data} ({data.stat().st_size:,} bytes, sha256 {digest[:12]}…, {checked})")
    return EXIT_PASSED


# --- test --------------------------------------------------------------------------------------


def _lab_for_test(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """The lab from the platform; offline, the ``lab.json`` that ``pull`` saved."""
    cached = folder / "lab.json"
    try:
        return lab_fetch(api_for(args), args.lab)
    except Rejected:
        raise
    except AcademyError as exc:  # offline, signed out: the lab as it was pulled will do
        if not cached.is_file():
            raise
        err(f"{exc}; using {cached} (saved by academy pull)")
        return json.loads(cached.read_text(encoding="utf-8"))


def _data_path(args: argparse.Namespace) -> Path:
    if args.data:
        return Path(args.data)
    candidates = [Path(args.lab) / "data.npz"]
    if args.file.resolve().parent.name == args.lab:
        candidates.append(args.file.resolve().parent / "data.npz")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise UsageError(f"no data for {args.lab} here ({candidates[0]}): run academy pull {args.lab} (or pass --data)")


def cmd_test(args: argparse.Namespace) -> int:
    from academy_client import local_test  # numpy, and the platform's modules

    data_path = _data_path(args)
    code, notes = local_test.source_prepare(read_solution(args.file), args.file.name)
    for note in notes:
        err(f"note: {note} (the platform drops it too)")
    local_test.torch_check()
    lab = _lab_for_test(args, data_path.parent)
    params = local_test.params_resolve(lab.get("params") or {}, params_parse(args.param))
    data = local_test.data_load(data_path)
    device, device_note = local_test.device_choose(lab, args.device)
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed  # random, as on the platform
    _test_announce(data, device_note, f"device {device}, seed {seed}, params {json.dumps(params)}")
    display = terminal_display(sys.stderr)
    outcome = local_test.local_test(
        code=code,
        lab=lab,
        data=data,
        device=device,
        seed=seed,
        params=params,
        display=display,
        wall_seconds=args.time_limit,
        source_name=str(args.file) if args.file.suffix.lower() == ".py" else f"{args.file} (as Python)",
    )
    display.close()
    result = {"lab": lab["slug"], "split": data.split, "rows": len(data.y_true), "state": outcome.state}
    result |= {"reason": outcome.reason, "metric": lab.get("metric"), "score": outcome.score}
    result |= {"threshold": lab.get("threshold"), "passed": bool(outcome.passed), "seed": seed, "device": device}
    result["seconds"] = round(outcome.seconds, 2)
    print(json.dumps(result) if args.json else _test_text(result, lab))
    unscored = outcome.state == "succeeded" and outcome.score is None  # a custom metric: the platform scores it
    return EXIT_PASSED if outcome.passed or unscored else EXIT_NOT_PASSED


def _test_announce(data: Any, device_note: str | None, settings: str) -> None:
    rows = len(data.y_true)
    if data.split == "validation":
        err(f"testing on the validation split ({rows} rows; your code sees them too, as data.x_val/y_val)")
    else:
        err(f"this lab has no validation split: holding out {rows} rows of the training data to score on")
    if device_note:
        err(device_note)
    err(f"{settings}; the platform scores on its hidden test rows")


def _test_text(result: dict[str, Any], lab: dict[str, Any]) -> str:
    where = "the validation split" if result["split"] == "validation" else "held-out training rows"
    if result["state"] != "succeeded":
        return f"{result['lab']}: {result['state']}: {result['reason']} (after {result['seconds']:.1f} s)"
    if result["score"] is None:
        return f"{result['lab']}: ran in {result['seconds']:.1f} s; {result['reason']}"
    verdict = "would pass" if result["passed"] else "would not pass"
    return (
        f"{result['lab']}: {result['metric']} {result['score']:.4f} on {where} ({result['rows']} rows),"
        f" pass mark {threshold_text(lab)}: {verdict} (ran in {result['seconds']:.1f} s)"
    )


# --- submit ------------------------------------------------------------------------------------


def cmd_submit(args: argparse.Namespace) -> int:
    payload = read_solution(args.file)
    params = params_parse(args.param)
    api = api_for(args)
    lab = lab_fetch(api, args.lab)
    run = submission_upload(api, args.lab, filename=args.file.name, payload=payload, params=params)
    err(f"run {run['id']} queued: {api.absolute(run.get('url') or '/')}")
    if args.wait:
        display = terminal_display(sys.stderr)
        try:
            run, ended = run_follow(api, run, display, timeout=wait_timeout(lab, args.timeout))
        except KeyboardInterrupt:
            display.close()
            err(f"stopped following; run {run['id']} goes on (academy logs {run['id']})")
            return EXIT_INTERRUPTED
        display.close()
        if not ended:
            err(f"gave up waiting after {wait_timeout(lab, args.timeout):.0f}s; the run goes on")
    result = summary(run)
    print(json.dumps(result) if args.json else summary_text(result), flush=True)
    return EXIT_PASSED if result["passed"] or not args.wait else EXIT_NOT_PASSED


# --- runs, logs, download ----------------------------------------------------------------------


def _when(text: Any) -> str:
    if not text:
        return "—"
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(text)


def cmd_runs(args: argparse.Namespace) -> int:
    runs: list[dict[str, Any]] = []
    for run in api_for(args).items("runs/"):
        if args.lab is None or run.get("lab") == args.lab:
            runs.append(run)
        if len(runs) >= args.limit:
            break
    if args.json:
        print(json.dumps(runs))
        return EXIT_PASSED
    rows = [
        (
            run.get("id"),
            run.get("lab"),
            run.get("state"),
            "—" if run.get("score") is None else f"{run['score']:.4f}",
            {True: "yes", False: "no"}.get(run.get("passed"), "—"),
            _when(run.get("queued_at")),
            (run.get("reason") or "")[:50],
        )
        for run in runs
    ]
    print(table(("run", "lab", "state", "score", "passed", "queued", "reason"), rows) if rows else "no runs")
    return EXIT_PASSED


def _run_get(api: Api, run_id: int) -> dict[str, Any]:
    try:
        return api.get(f"runs/{run_id}/")
    except NotFound:
        raise UsageError(f"no run {run_id} that you can see on {api.url}") from None


def _artifact_path(run: dict[str, Any], key: str, default: str) -> str | None:
    """Where an artifact is: the run's ``artifacts`` link (None: there is none), else the API's path."""
    artifacts = run.get("artifacts")
    if isinstance(artifacts, dict) and key in artifacts:
        return artifacts[key] or None
    return f"runs/{run['id']}/{default}"


def cmd_logs(args: argparse.Namespace) -> int:
    api = api_for(args)
    run = _run_get(api, args.run)
    path = _artifact_path(run, "log", "log/")
    if path is not None:
        try:
            sys.stdout.write(api.text(path))
            sys.stdout.flush()
            return EXIT_PASSED
        except NotFound:
            pass
    if run.get("log"):
        err(f"(the full log is not available from {api.url}: this is the end of it, as the run keeps it)")
        sys.stdout.write(str(run["log"]))
        return EXIT_PASSED
    err(f"run {args.run} has no log (yet)")
    return EXIT_NOT_PASSED


def cmd_download(args: argparse.Namespace) -> int:
    api = api_for(args)
    run = _run_get(api, args.run)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    written, missing = [], []
    for key, suffix, default in ARTIFACTS:
        target = folder / f"run-{args.run}-{suffix}"
        path = _artifact_path(run, key, default)
        if target.exists() and not args.force:
            err(f"kept {target} (it exists; --force replaces it)")
            continue
        if path is None:
            missing.append(key)
            continue
        try:
            api.download(path, target, digest_header="X-Content-SHA256")
        except NotFound:
            missing.append(key)
            continue
        written.append(target)
        err(f"wrote {target} ({target.stat().st_size:,} bytes)")
    if missing:
        err(f"not available for run {args.run}: {', '.join(missing)}")
    return EXIT_PASSED if written or not missing else EXIT_NOT_PASSED


# --- the parser ----------------------------------------------------------------------------------


def parser_build() -> Parser:
    parser = Parser(
        prog="academy",
        description="The AI academy from your own machine: labs, local tests, submissions and runs.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"academy-client {__version__}")
    common = Parser(add_help=False)
    common.add_argument("--url", help="the platform's address (default: ACADEMY_URL, else the one you signed in to)")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], int], text: str) -> Parser:
        sub = commands.add_parser(
            name, parents=[common], help=text, description=text, epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        sub.set_defaults(handler=handler)
        return sub

    login = command("login", cmd_login, "sign in and keep a personal API token (asks for what is missing)")
    login.add_argument("--username", "-u")
    login.add_argument("--password", "-p", help="better typed at the prompt: options show in the process list")
    login.add_argument("--token", help="a token from your profile page, instead of username and password")
    command("logout", cmd_logout, "forget the stored token")

    labs = command("labs", cmd_labs, "list the labs open to you")
    labs.add_argument("--json", action="store_true", help="print the labs as JSON")

    pull = command("pull", cmd_pull, "write LAB/solution.py (the starter code), LAB/README.md and LAB/data.npz")
    pull.add_argument("lab")
    pull.add_argument("--dir", help="the folder to write into (default: ./LAB)")
    pull.add_argument("--force", action="store_true", help="replace an existing solution.py with the starter code")

    test = command("test", cmd_test, "run train/predict here, as the platform does, scored on the validation split")
    test.add_argument("lab")
    test.add_argument("file", type=Path, help="a .py file or a .ipynb notebook")
    test.add_argument("--data", help="the lab's data.npz (default: LAB/data.npz from academy pull)")
    test.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a hyper-parameter")
    test.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    test.add_argument("--seed", type=int, help="the seed (default: a random one, as on the platform; printed)")
    test.add_argument("--time-limit", type=float, help="seconds (default: the lab's limit; this machine's speed)")
    test.add_argument("--json", action="store_true", help="print one JSON object last on stdout")

    submit = command("submit", cmd_submit, "submit a .py file or a .ipynb notebook to a lab")
    submit.add_argument("lab")
    submit.add_argument("file", type=Path)
    submit.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="a hyper-parameter (value read as JSON)"
    )
    submit.add_argument("--wait", action="store_true", help="follow the run to its end, live on stderr")
    submit.add_argument("--json", action="store_true", help="print one JSON object last on stdout (as submit_lab)")
    submit.add_argument("--timeout", type=float, help="seconds to wait (default: the lab's limit + 10 minutes)")

    runs = command("runs", cmd_runs, "list your runs, newest first")
    runs.add_argument("--lab", help="only this lab's runs")
    runs.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    runs.add_argument("--json", action="store_true", help="print the runs as JSON")

    logs = command("logs", cmd_logs, "print a run's full log")
    logs.add_argument("run", type=int)

    download = command("download", cmd_download, "write run-ID-model.pt, run-ID-log.txt and run-ID-metrics.csv")
    download.add_argument("run", type=int)
    download.add_argument("--dir", default=".", help="the folder to write into (default: here)")
    download.add_argument("--force", action="store_true", help="replace files that exist")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser_build().parse_args(argv)
    try:
        return args.handler(args)
    except AcademyError as exc:
        err(f"academy: {'error: ' if exc.exit_code == EXIT_ERROR else ''}{exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        err("academy: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `academy runs | head`
        return EXIT_PASSED
    except OSError as exc:  # the disk: a folder that cannot be written, a full disk
        err(f"academy: error: {exc}")
        return EXIT_ERROR
