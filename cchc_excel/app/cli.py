"""The `cchc` command line: thin commands over the library.

Typer (on Click) gives typed options, `--help` on every command and proper usage errors (exit 2); Rich
gives tables and progress bars that turn themselves off (and drop colour) when output is not a terminal.
Exit codes: 0 ok; 1 the input had errors (a plan, a registry, a rejected file, a store that will not open, a
month without data); 2 bad usage (a missing option, a bad date, a period other than a month, --out naming a
file); 130 interrupted (Ctrl-C). Every command that a script may call takes `--json` and prints
{"ok": …, "result": …, "problems": […]} — errors too, and never NaN. No command ends in a traceback for bad
input: `GuardedGroup` turns `Refusal`, usage errors, Ctrl-C and OS/database errors into messages.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import typer

from .. import bundled
from ..core.period import NotAMonth, Period
from ..core.problems import Problem, Refusal, ValidationReport, problem, wording

# Click's own words (usage line, option list, usage errors) in Vietnamese. Click looks them up through
# gettext; this table stands in for a catalogue.
CLICK_WORDS = {
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Show this message and exit.": "Xem hướng dẫn này rồi thoát.",
    "Try '{command} {option}' for help.": "Xem hướng dẫn: '{command} {option}'.",
    "Error: {message}": "Lỗi: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing {param_type}": "Thiếu {param_type}",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "argument": "tham số",
    "option": "tùy chọn",
    "parameter": "tham số",
    "Missing command.": "Thiếu tên lệnh.",
    "No such option: {name}": "Không có tùy chọn: {name}",
    "No such option {name!r}.": "Không có tùy chọn {name!r}.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "Did you mean {possibility}?": "Có phải {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Có phải một trong: {possibilities}?)",
    "(Possible options: {possibilities})": "(Các tùy chọn gần giống: {possibilities})",
    "Option {name!r} requires an argument.": "Tùy chọn {name!r} cần một giá trị.",
    "Option {name!r} requires {nargs} arguments.": "Tùy chọn {name!r} cần {nargs} giá trị.",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Got unexpected extra argument ({args})": "Thừa tham số ({args})",
    "Got unexpected extra arguments ({args})": "Thừa các tham số ({args})",
    "required": "bắt buộc",
    "default: {default}": "mặc định: {default}",
    "Aborted!": "Đã dừng.",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải là số.",
    "integer": "số nguyên",
}


# Phrases of usage errors that Typer's copy of Click writes without gettext, in the order they are replaced.
CLICK_PHRASES = (
    ("No such option:", "Không có tùy chọn"), ("Possible options:", "các tùy chọn gần giống:"),
    ("Did you mean", "Có phải"), ("Missing option", "Thiếu tùy chọn"), ("Missing argument", "Thiếu tham số"),
    ("Missing parameter", "Thiếu tham số"), ("Invalid value for", "Giá trị không hợp lệ cho"),
    ("Invalid value:", "Giá trị không hợp lệ:"), ("Got unexpected extra arguments", "Thừa các tham số"),
    ("Got unexpected extra argument", "Thừa tham số"), ("requires an argument", "cần một giá trị"),
    ("does not take a value", "không nhận giá trị"), ("is not a valid integer", "không phải số nguyên"),
    ("No such command", "Không có lệnh"), ("Usage:", "Cách dùng:"), ("[OPTIONS]", "[TÙY CHỌN]"),
    ("COMMAND [ARGS]...", "LỆNH [THAM SỐ]..."),
)


def vi_usage(text: str) -> str:
    for english, vietnamese in CLICK_PHRASES:
        text = text.replace(english, vietnamese)
    return text


def _show_usage_error(self: Any, file: Any = None) -> None:
    """A usage error the Vietnamese way: the usage line, where to find help, then what was wrong."""
    lines = []
    if getattr(self, "ctx", None) is not None:
        lines += [vi_usage(self.ctx.get_usage()), f"Xem hướng dẫn: {self.ctx.command_path} --help", ""]
    lines.append("Lỗi: " + vi_usage(self.format_message()))
    print("\n".join(lines), file=file or sys.stderr)


def _install_click_words() -> None:
    """Point the `_`/`ngettext` of Click's modules (Typer carries its own copy as typer._click) at the table."""
    import typer.core  # noqa: F401 - loads typer's copy of Click

    def gettext(message: str) -> str:
        return CLICK_WORDS.get(message, message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return gettext(singular if n == 1 else plural)

    names = [n for n in sys.modules if n == "typer.core" or n.startswith(("click.", "typer._click.", "typer.rich"))]
    for module in [sys.modules[n] for n in names]:
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    for name in ("click.exceptions", "typer._click.exceptions"):
        if name in sys.modules:
            sys.modules[name].UsageError.show = _show_usage_error
    for name in ("click.formatting", "typer._click.formatting"):
        if name in sys.modules:
            formatter = sys.modules[name].HelpFormatter
            write_usage = formatter.write_usage

            def _write_usage(self: Any, prog: str, args: str = "", prefix: str | None = None,
                             _orig: Any = write_usage) -> None:
                _orig(self, prog, vi_usage(args), "Cách dùng: " if prefix is None else prefix)

            formatter.write_usage = _write_usage
    for name in ("click.core", "typer._click.core"):
        if name in sys.modules:
            command = sys.modules[name].Command
            get_help_option = command.get_help_option

            def _get_help_option(self: Any, ctx: Any, _orig: Any = get_help_option) -> Any:
                option = _orig(self, ctx)
                if option is not None and option.help == "Show this message and exit.":
                    option.help = CLICK_WORDS[option.help]
                return option

            command.get_help_option = _get_help_option


_install_click_words()


# Typer 0.29 carries its own copy of Click: take its UsageError from typer's own BadParameter.
UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class GuardedGroup(typer.core.TyperGroup):
    """The one guard of every command: what the user can act on ends in a Vietnamese message (JSON with
    --json) and its exit code, never a traceback. Bugs still show their traceback."""

    def invoke(self, ctx: Any) -> Any:
        raw = [*getattr(ctx, "_protected_args", []), *ctx.args]
        as_json = "--json" in raw
        try:
            return super().invoke(ctx)
        except Refusal as exc:
            fail(exc.problems, exc.exit_code, as_json)
        except UsageError as exc:
            if not as_json:
                raise
            fail([Problem("usage", "error", vi_usage(exc.format_message()))], 2,  # type: ignore[attr-defined]
                 as_json)
        except KeyboardInterrupt:
            fail([problem("interrupted")], 130, as_json)
        except OSError as exc:
            fail([problem("os-error", file=str(exc.filename or ""), detail=os_words(exc))], 1, as_json)
        except Exception as exc:
            # xlsxwriter wraps the OSError of a workbook it cannot create (folder missing or read-only, file
            # open in Excel): the office gets the same message as for any other file it cannot write.
            xlsx_errors = sys.modules.get("xlsxwriter.exceptions")
            cause = exc.args[0] if exc.args else None
            if xlsx_errors is not None and isinstance(exc, xlsx_errors.FileCreateError) and isinstance(cause, OSError):
                fail([problem("os-error", file=str(cause.filename or ""), detail=os_words(cause))], 1, as_json)
            # A database error can only come from a command that loaded SQLAlchemy; looking it up in
            # sys.modules keeps `cchc <command> --help` (Click's Exit passes here) from importing it.
            db_errors = sys.modules.get("sqlalchemy.exc")
            if db_errors is None or not isinstance(exc, db_errors.SQLAlchemyError):
                raise
            fail([problem("database-error", detail=str(getattr(exc, "orig", None) or exc).splitlines()[0])], 1,
                 as_json)


# What an OSError means, in the words of the office (the system's own text may be English).
OS_WORDS = {"ENOENT": "không tồn tại", "EACCES": "không có quyền truy cập", "EPERM": "không có quyền truy cập",
            "ENOSPC": "ổ đĩa đã đầy", "EEXIST": "đã có một tệp cùng tên", "EISDIR": "đây là thư mục, không phải tệp",
            "ENOTDIR": "một phần đường dẫn là tệp, không phải thư mục", "EROFS": "ổ đĩa chỉ cho đọc",
            "EBUSY": "tệp đang được chương trình khác dùng"}


def os_words(exc: OSError) -> str:
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    return OS_WORDS.get(name) or exc.strerror or str(exc)


def out_folder(out: Path) -> Path:
    """An output folder option: refused (exit 2) when it names an existing file."""
    if out.exists() and not out.is_dir():
        raise Refusal(problem("out-not-folder", file=str(out)), exit_code=2)
    return out


def fail(problems: list[Problem], code: int, as_json: bool) -> None:
    """Show why a command stopped and exit with `code`."""
    if as_json:
        emit(False, None, ValidationReport(list(problems)))
    else:
        for p in problems:
            err.print(("Lỗi: " if p.severity == "error" else "Cảnh báo: ") + p.message, highlight=False,
                      markup=False)
    raise typer.Exit(code)


app = typer.Typer(cls=GuardedGroup, add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="cchc_excel — báo cáo cải cách thủ tục hành chính hằng tháng: tạo biểu mẫu Excel cho "
                       "đơn vị, nhập biểu mẫu đã điền, tổng hợp và lập báo cáo Word. Mã thoát: 0 thành công; "
                       "1 dữ liệu có lỗi; 2 sai cách dùng lệnh.")
plan_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                       help="Kiểm tra kế hoạch (chỉ tiêu, nhiệm vụ, điều chỉnh).")
units_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Kiểm tra danh mục đơn vị báo cáo.")
app.add_typer(plan_app, name="plan")
app.add_typer(units_app, name="units")



class LazyConsole:
    """A Rich console made on first use. Importing Rich costs about 40 ms, which `--help`, usage errors and
    `--json` runs would pay at every start for nothing. The console is made when something is printed (after
    Typer's test runner, if any, has put its own stdout in place, as Rich reads sys.stdout at print time)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def get(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


def Table(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - stands in for rich.table.Table, imported when used
    from rich.table import Table as RichTable

    return RichTable(*args, **kwargs)


console = LazyConsole()
err = LazyConsole(stderr=True)
T = TypeVar("T")

JSON_OPT = typer.Option(False, "--json", help="In kết quả dạng JSON (cho script).")
QUIET_OPT = typer.Option(False, "--quiet", "-q", help="Chỉ in các vấn đề.")
WS_OPT = typer.Option(..., "--workspace", "-w", help="Thư mục làm việc (có tệp cchc.yaml).")
PERIOD_OPT = typer.Option(..., "--period", "-p", help="Kỳ báo cáo (một tháng), ví dụ 2025-03 hoặc 03/2025.")


def json_safe(value: Any) -> Any:
    """NaN and infinities become null (JSON has no NaN); dates and other objects become text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return json_safe(value.item())
    return str(value)


def emit(ok: bool, result: Any, problems: ValidationReport | list[dict[str, Any]] | None = None) -> None:
    """The one JSON shape of every command; always valid JSON (no NaN)."""
    plist = problems.to_list() if isinstance(problems, ValidationReport) else (problems or [])
    payload = json_safe({"ok": ok, "result": result, "problems": plist})
    print(json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False))


def print_problems(report: ValidationReport | list[dict[str, Any]], *, limit: int = 200) -> None:
    items = report.to_list() if isinstance(report, ValidationReport) else report
    if not items:
        return
    table = Table(title=f"{len(items)} vấn đề", show_lines=False)
    for col in ("Mức độ", "Vị trí", "Nội dung"):
        table.add_column(col, overflow="fold")
    for p in items[:limit]:
        where = " ".join(x for x in (p.get("file") and Path(str(p["file"])).name, p.get("sheet"), p.get("cell"))
                         if x)
        style = "red" if p["severity"] == "error" else "yellow"
        table.add_row(f"[{style}]{'Lỗi' if p['severity'] == 'error' else 'Cảnh báo'}[/]", where, p["message"])
    console.print(table)
    if len(items) > limit:
        console.print(f"... và {len(items) - limit} vấn đề khác (dùng --json để xem tất cả).")


def parse_any_period(text: str) -> Period:
    """A month, quarter (2025-Q1), half (2025-H1), nine months (2025-9T) or year (2025): `status`, `aggregate`
    and `report` build a longer period from its months."""
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


PERIOD_ANY_OPT = typer.Option(..., "--period", "-p", help="Kỳ báo cáo: tháng (2025-03), quý (2025-Q1), 6 tháng "
                                                          "(2025-H1), 9 tháng (2025-9T) hoặc năm (2025).")


def parse_period(text: str) -> Period:
    """A month; other periods (quarter, half, nine months, year) are refused with exit 2 by the commands that
    work month by month (generate, import, check-template)."""
    try:
        return Period.parse_month(text)
    except NotAMonth as exc:
        raise Refusal(problem("period-not-month", value=exc.text, detail=exc.label), exit_code=2) from exc
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def parse_date_option(text: str | None, label: str, *, with_time: bool = False) -> Any:
    """A date (or date and time) option typed the Vietnamese way ("15/03/2025", "15/03/2025 09:30") or as
    ISO ("2025-03-15", "2025-03-15T09:30"); a usage error (exit 2) naming the option otherwise."""
    if not text:
        return None
    from ..core.vntext import parse_date

    value = text.strip()
    try:
        when = datetime.fromisoformat(value)
        return when if with_time else when.date()
    except ValueError:
        pass
    whole = parse_date(value)
    if whole is not None:
        return datetime(whole.year, whole.month, whole.day) if with_time else whole
    day, _, clock = value.partition(" ")
    found = parse_date(day)
    if found is not None and clock:
        if with_time:
            try:
                hm = datetime.strptime(clock.strip(), "%H:%M")
                return datetime(found.year, found.month, found.day, hm.hour, hm.minute)
            except ValueError:
                pass
    extra = wording("time-example") if with_time else ""
    raise typer.BadParameter(problem("bad-date-option", name=label, value=text, detail=extra).message)


def open_ws(path: Path, as_json: bool) -> Any:
    from ..archive.workspace import open_workspace

    ws, report = open_workspace(path)
    if ws is None:
        if as_json:
            emit(False, None, report)
        else:
            err.print(f"Không mở được thư mục làm việc {path}.")
            print_problems(report)
            err.print("Gợi ý: tạo thư mục làm việc bằng 'cchc init', hoặc sửa các lỗi trên rồi chạy lại.")
        raise typer.Exit(1)
    if not as_json:
        # Warnings that may change figures (an unknown key, an unwritten adjustment mode) are said at every
        # command; the due-date remark belongs to `cchc plan check` and would only be noise here.
        for w in report.warnings:
            if w.code != "due-before-cutoff":
                err.print(f"Cảnh báo: {w.message}", highlight=False, markup=False)
    return ws


def progress(items: Iterable[T], total: int, label: str, quiet: bool) -> Iterator[T]:
    if quiet or not console.is_terminal:
        yield from items
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console.get(), transient=True) as bar:
        task = bar.add_task(label, total=total)
        for item in items:
            yield item
            bar.advance(task)


# ------------------------------------------------------------------------------------------------
# plan / units


@plan_app.command("check")
def plan_check(file: Path = typer.Argument(..., help="Tệp kế hoạch (.yaml)."), as_json: bool = JSON_OPT) -> None:
    """Kiểm tra tệp kế hoạch và in các chỉ tiêu, chỉ tiêu theo cấp, điều chỉnh, nhiệm vụ.

    Ví dụ: cchc plan check templates/plans/ninh-thuan-2025.yaml
    """
    from ..archive.datafiles import load_plan

    plan, report = load_plan(file)
    if as_json:
        emit(plan is not None, _plan_dict(plan) if plan else None, report)
        raise typer.Exit(0 if plan else 1)
    if plan is not None:
        table = Table(title=f"{plan.title} ({plan.id}) — {len(plan.indicators)} chỉ tiêu", show_lines=True)
        for col in ("Mã", "Chỉ tiêu", "Loại", "Áp dụng", "Chỉ tiêu theo cấp", "Nguồn"):
            table.add_column(col, overflow="fold")
        for ind in plan.indicators:
            targets = "; ".join(f"{t.printed_id or ind.id} {t.tier or 'mọi cấp'}: {t.label}" for t in ind.targets)
            table.add_row(ind.key, ind.name, ind.kind, ", ".join(ind.applies_to), targets, ind.source or "")
        console.print(table)
        if plan.adjustments:
            adj = Table(title="Điều chỉnh chỉ tiêu")
            for col in ("Mã", "Cờ đơn vị", "Chỉ tiêu", "Thay đổi", "Nội dung"):
                adj.add_column(col, overflow="fold")
            for a in plan.adjustments:
                change = f"{a.delta:+g}% mức chuẩn" if a.mode == "percent_of_target" else f"{a.delta:+g} điểm %"
                adj.add_row(a.id, a.flag, ", ".join(a.indicators), change, a.text or "")
            console.print(adj)
        tasks = Table(title=f"{len(plan.tasks)} nhiệm vụ")
        for col in ("Mã", "Nhiệm vụ", "Chủ trì", "Thời hạn"):
            tasks.add_column(col, overflow="fold")
        for t in plan.tasks:
            tasks.add_row(t.id, t.text, t.host or "", t.deadline.label)
        console.print(tasks)
    print_problems(report)
    raise typer.Exit(0 if plan else 1)


def _plan_dict(plan: Any) -> dict[str, Any]:
    return {
        "id": plan.id, "title": plan.title, "year": plan.year, "tiers": list(plan.tiers),
        "indicators": [{"key": i.key, "id": i.id, "group": i.group, "name": i.name, "kind": i.kind,
                        "applies_to": list(i.applies_to), "numerator": i.numerator_label,
                        "denominator": i.denominator_label, "combine": i.combine,
                        "targets": [{"tier": t.tier, "id": t.printed_id, "comparison": t.comparison, "value": t.value}
                                    for t in i.targets]} for i in plan.indicators],
        "adjustments": [{"id": a.id, "flag": a.flag, "delta": a.delta, "mode": a.mode,
                         "indicators": list(a.indicators)}
                        for a in plan.adjustments],
        "tasks": [{"id": t.id, "text": t.text, "host": t.host, "deadline": t.deadline.label,
                   "due": t.deadline.due} for t in plan.tasks],
    }


@units_app.command("check")
def units_check(file: Path = typer.Argument(..., help="Tệp danh mục đơn vị (.yaml hoặc .csv)."),
                succession: Path = typer.Option(None, "--succession",
                                                help="Bảng kế thừa đơn vị từ danh mục cũ sang danh mục này."),
                old: Path = typer.Option(None, "--from", help="Danh mục cũ của bảng kế thừa."),
                as_json: bool = JSON_OPT) -> None:
    """Kiểm tra danh mục đơn vị: số đơn vị theo cấp, cờ (vùng DTTS, miền núi...); với --succession và --from:
    kiểm tra bảng kế thừa (mọi đơn vị cũ đều có đơn vị kế thừa hoặc bị giải thể, không có mã lạ).

    Ví dụ: cchc units check templates/registries/ninh-thuan-2025.yaml
    cchc units check templates/registries/khanh-hoa-2025.yaml --from templates/registries/ninh-thuan-2025.yaml
    --succession templates/registries/ninh-thuan-2025-to-khanh-hoa-2025.yaml
    """
    from ..archive.datafiles import load_registry

    if (succession is None) != (old is None):
        raise typer.BadParameter("--succession và --from đi cùng nhau.")
    reg, report = load_registry(file)
    smap = None
    if succession is not None and old is not None:
        from ..archive.history import check_succession_files  # pandas: only with a succession map

        smap, found = check_succession_files(succession, old, file)
        report.extend([p for p in found.problems if p not in report.problems])
    result = None
    if reg is not None:
        flags: dict[str, int] = {}
        for u in reg.units:
            for f in u.flags:
                flags[f] = flags.get(f, 0) + 1
        result = {"id": reg.id, "province": reg.province,
                  "tiers": [{"code": t.code, "name": t.name, "units": len(reg.in_tier(t.code))} for t in reg.tiers],
                  "flags": flags, "units": len(reg.units)}
        if smap is not None:
            from ..core.succession import summary

            result["succession"] = {"id": smap.id, "effective": smap.effective, "kinds": summary(smap),
                                    "abolished_tiers": list(smap.abolished_tiers)}
    if as_json:
        emit(reg is not None and report.ok, result, report)
    elif result:
        table = Table(title=f"Danh mục {reg.id} — {reg.province}: {len(reg.units)} đơn vị")
        table.add_column("Cấp")
        table.add_column("Tên")
        table.add_column("Số đơn vị", justify="right")
        for t in result["tiers"]:
            table.add_row(t["code"], t["name"], str(t["units"]))
        console.print(table)
        for flag, n in flags.items():
            console.print(f"Cờ {flag}: {n} đơn vị")
        if smap is not None:
            kinds = ", ".join(f"{k} {n}" for k, n in result["succession"]["kinds"].items() if n)
            console.print(f"Bảng kế thừa {smap.id} (từ {smap.effective_label}): {kinds}; cấp bỏ: "
                          f"{', '.join(smap.abolished_tiers) or 'không'}")
    if not as_json:
        print_problems(report)
    raise typer.Exit(0 if reg is not None else 1)


@plan_app.command("targets")
def plan_targets(plan_file: Path = typer.Argument(..., help="Tệp kế hoạch."),
                 registry_file: Path = typer.Argument(..., help="Tệp danh mục đơn vị."),
                 as_json: bool = JSON_OPT) -> None:
    """In chỉ tiêu của từng đơn vị sau khi áp dụng điều chỉnh.

    Ví dụ: cchc plan targets templates/plans/ninh-thuan-2025.yaml templates/registries/ninh-thuan-2025.yaml
    """
    from ..archive.datafiles import load_plan, load_registry
    from ..core.plan import indicators_for, tasks_for

    plan, r1 = load_plan(plan_file)
    reg, r2 = load_registry(registry_file)
    report = ValidationReport(r1.problems + r2.problems)
    if plan is None or reg is None:
        if as_json:
            emit(False, None, report)
        else:
            print_problems(report)
        raise typer.Exit(1)
    rows = []
    for u in reg.units:
        for item in indicators_for(plan, unit_code=u.code, tier=u.tier, flags=u.flags):
            t = item.target
            rows.append({"unit": u.code, "name": u.name, "tier": u.tier, "indicator": item.indicator.key,
                         "printed_id": t.printed_id if t and t.printed_id else item.indicator.id,
                         "comparison": t.comparison if t else None, "target": t.value if t else None,
                         "adjusted_by": list(t.adjusted_by) if t else [],
                         "tasks": len(tasks_for(plan, unit_code=u.code, tier=u.tier))})
    if as_json:
        emit(True, rows, report)
        raise typer.Exit(0)
    table = Table(title="Chỉ tiêu theo đơn vị")
    for col in ("Mã ĐV", "Đơn vị", "Cấp", "Chỉ tiêu", "Giao", "Điều chỉnh"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["unit"], r["name"], r["tier"], r["printed_id"],
                      "" if r["target"] is None else f"{r['comparison']} {r['target']:g}", ", ".join(r["adjusted_by"]))
    console.print(table)
    raise typer.Exit(0)


# ------------------------------------------------------------------------------------------------
# workspace cycle


PLAN_HELP = f"Tệp kế hoạch (.yaml) hoặc tên kế hoạch kèm theo: {', '.join(bundled.names('plan'))}."
REGISTRY_HELP = ("Tệp danh mục đơn vị (.yaml/.csv) hoặc tên danh mục kèm theo: "
                 f"{', '.join(bundled.names('registry'))}.")


def file_or_bundled(value: Path, kind: str) -> Path:
    """`--plan`/`--registry`: a file, else the bundled plan or registry of that name (`ninh-thuan-2025`);
    neither is a usage error that lists the bundled names."""
    if value.is_file() or len(value.parts) != 1:
        return value    # a path: init_workspace refuses it if it is missing
    found = bundled.find(kind, value.name)
    if found is not None:
        return found
    code = {"plan": "unknown-bundled-plan", "registry": "unknown-bundled-registry"}[kind]
    raise Refusal(problem(code, file=str(value),
                          detail=", ".join(bundled.names(kind)) or wording("none-listed")), exit_code=2)


@app.command("init")
def init_cmd(directory: Path = typer.Argument(..., help="Thư mục làm việc mới."),
             plan: Path = typer.Option(..., "--plan", help=PLAN_HELP),
             registry: Path = typer.Option(..., "--registry", help=REGISTRY_HELP),
             office: str = typer.Option("", "--office", help="Tên cơ quan tổng hợp (hiện trên biểu mẫu)."),
             phone: str = typer.Option("", "--phone", help="Điện thoại hỗ trợ đơn vị."),
             as_json: bool = JSON_OPT) -> None:
    """Tạo thư mục làm việc: sao chép kế hoạch, danh mục và ghi cchc.yaml (có khóa ký biểu mẫu).

    Ví dụ: cchc init ws --plan ninh-thuan-2025 --registry ninh-thuan-2025 (kế hoạch và danh mục kèm theo), hoặc
    cchc init ws --plan templates/plans/ninh-thuan-2025.yaml --registry templates/registries/ninh-thuan-2025.yaml
    """
    from ..archive.workspace import init_workspace, open_workspace

    plan, registry = file_or_bundled(plan, "plan"), file_or_bundled(registry, "registry")
    extra = {k: v for k, v in (("name", office), ("phone", phone)) if v}
    try:
        cfg = init_workspace(directory, plan=plan, registry=registry, office=extra)
    except (FileExistsError, FileNotFoundError) as exc:
        if as_json:
            emit(False, None, [{"code": "usage", "severity": "error", "message": str(exc)}])
        else:
            err.print(str(exc))
        raise typer.Exit(2) from exc
    ws, report = open_workspace(directory)
    if as_json:
        emit(ws is not None, {"config": str(cfg)}, report)
    else:
        console.print(f"Đã tạo {cfg}. Bước tiếp theo: cchc generate --workspace {directory} --period 2025-03 "
                      f"--out {directory}/bieu-mau")
        print_problems(report)
    raise typer.Exit(0 if ws else 1)


@app.command("generate")
def generate_cmd(workspace: Path = WS_OPT, period: str = PERIOD_OPT,
                 unit: list[str] = typer.Option(None, "--unit", "-u", help="Mã đơn vị (lặp lại được); mặc định: tất cả."),
                 out: Path = typer.Option(..., "--out", "-o", help="Thư mục ghi biểu mẫu."),
                 quiet: bool = QUIET_OPT, as_json: bool = JSON_OPT) -> None:
    """Tạo biểu mẫu Excel cho từng đơn vị của kỳ báo cáo.

    Ví dụ: cchc generate --workspace ws --period 2025-03 --out ws/bieu-mau/2025-03
    """
    from ..workbook.intake import generate, units_for

    p = parse_period(period)
    out_folder(out)
    ws = open_ws(workspace, as_json)
    units, unknown = units_for(ws.registry, unit)
    if unknown:
        raise Refusal(*[problem("unknown-unit", cell="--unit", value=code) for code in unknown], exit_code=2)
    written = []
    from ..archive.history import carried_for

    gen = generate(ws.plan, ws.registry, p, units, out, secret=ws.secret, office=ws.office,
                   protect_password=ws.protect_password, carried=carried_for(ws, p))
    for g in progress(gen, len(units), "Tạo biểu mẫu", quiet or as_json):
        written.append({"unit": g.unit.code, "name": g.unit.name, "file": str(g.path)})
    if as_json:
        emit(True, written)
    elif not quiet:
        console.print(f"Đã tạo {len(written)} biểu mẫu trong {out}.")
        console.print("Gửi mỗi đơn vị tệp của mình; khi nhận lại: cchc import --workspace "
                      f"{workspace} <thư mục tệp nhận>")


@app.command("import")
def import_cmd(paths: list[Path] = typer.Argument(..., help="Tệp hoặc thư mục tệp đã nhận."),
               workspace: Path = WS_OPT,
               period: str = typer.Option(None, "--period", "-p", help="Chỉ nhận biểu mẫu của kỳ này."),
               received_at: str = typer.Option(None, "--received-at",
                                               help="Thời điểm nhận: 15/03/2025, 15/03/2025 09:30 hoặc 2025-03-15; mặc định: sổ nhận "
                                                    "so-nhan.csv trong thư mục, nếu không có thì lúc nhập."),
               errors_xlsx: Path = typer.Option(None, "--errors-xlsx",
                                                help="Ghi bảng lỗi để gửi lại đơn vị (một tệp mỗi kỳ; với "
                                                     "--per-unit: thư mục, một tệp mỗi đơn vị)."),
               per_unit: bool = typer.Option(False, "--per-unit",
                                             help="Ghi bảng lỗi riêng cho từng đơn vị vào thư mục --errors-xlsx."),
               quiet: bool = QUIET_OPT, as_json: bool = JSON_OPT) -> None:
    """Nhập các tệp đơn vị gửi về: kiểm tra, lưu trữ (không mất tệp nào), báo lỗi theo ô.

    Ví dụ: cchc import --workspace ws nhan/2025-03/ --errors-xlsx loi-2025-03.xlsx
    Mỗi đơn vị một tệp: cchc import --workspace ws nhan/2025-03/ --errors-xlsx loi/ --per-unit
    Mã thoát: 0 mọi tệp được chấp nhận; 1 có tệp bị trả lại; 2 sai cách dùng.
    """
    from ..archive.importing import collect_files, import_files, import_interrupted
    from ..documents.errorbook import write_error_books

    p = parse_period(period) if period else None
    when = parse_date_option(received_at, "Thời điểm nhận (--received-at)", with_time=True)
    missing = [str(x) for x in paths if not Path(x).exists()]
    if missing:
        raise typer.BadParameter(f"Không tìm thấy: {', '.join(missing)}")
    ws = open_ws(workspace, as_json)
    files = collect_files(paths)
    outcomes = []
    try:
        for _path, outcome in progress(import_files(ws, files, period=p, received_at=when), len(files), "Nhập tệp",
                                       quiet or as_json):
            outcomes.append(outcome)
    except KeyboardInterrupt:
        raise import_interrupted(len(outcomes), len(files)) from None
    ok = all(o.status == "accepted" for o in outcomes)
    if per_unit and not errors_xlsx:
        raise typer.BadParameter("--per-unit cần --errors-xlsx THƯ_MỤC (nơi ghi bảng lỗi của từng đơn vị).")
    books = write_error_books(ws, outcomes, errors_xlsx, per_unit=per_unit) if errors_xlsx else []
    if as_json:
        emit(ok, [{"file": o.file_name, "unit": o.unit_code, "period": o.period_code, "status": o.status,
                   "duplicate": o.duplicate, "current": o.is_current, "version": o.version, "errors": o.errors,
                   "warnings": o.warnings, "problems": o.problems} for o in outcomes])
        raise typer.Exit(0 if ok else 1)
    if not quiet:
        table = Table(title=f"Đã nhập {len(outcomes)} tệp")
        for col in ("Tệp", "Đơn vị", "Kỳ", "Kết quả", "Lỗi", "Cảnh báo"):
            table.add_column(col, overflow="fold")
        for o in outcomes:
            unit = ws.registry.get(o.unit_code) if o.unit_code else None
            status = "[green]Chấp nhận[/]" if o.status == "accepted" else "[red]Trả lại[/]"
            if o.duplicate:
                status += " (đã nhập trước đó)"
            table.add_row(o.file_name, unit.name if unit else (o.unit_code or "?"), o.period_code or "?", status,
                          str(o.errors), str(o.warnings))
        console.print(table)
    problems = [p for o in outcomes for p in o.problems]
    print_problems(problems)
    if books and not quiet:
        console.print(f"Đã ghi {len(books)} bảng lỗi: " + (str(books[0]) if len(books) == 1 else
                                                          str(Path(books[0]).parent)))
    if not ok and not quiet:
        console.print("Có tệp bị trả lại: gửi bảng lỗi (--errors-xlsx) cho đơn vị để sửa và gửi lại.")
    raise typer.Exit(0 if ok else 1)


@app.command("status")
def status_cmd(workspace: Path = WS_OPT, period: str = PERIOD_ANY_OPT, as_json: bool = JSON_OPT) -> None:
    """Tình hình nộp báo cáo của từng đơn vị: đúng hạn, muộn, bị trả lại, chưa nộp (quý, năm: số tháng đã nộp).

    Ví dụ: cchc status --workspace ws --period 2025-03   |   cchc status --workspace ws --period 2025-Q1
    """
    from .reporting import aggregate_period

    p = parse_any_period(period)
    ws = open_ws(workspace, as_json)
    agg = aggregate_period(ws, p)
    rows = [{"unit": r.unit_code, "name": r.unit_name, "tier": r.tier, "status": r.status,
             "received_at": None if r.received_at is None or str(r.received_at) == "NaT" else str(r.received_at),
             "versions": int(r.versions), "file": r.file_name,
             "days_late": None if r.days_late is None or r.days_late != r.days_late else int(r.days_late),
             **({"months_accepted": int(r.months_accepted), "months_expected": int(r.months_expected),
                 "months_on_time": int(r.months_on_time), "months_late": int(r.months_late),
                 "missing_months": r.missing_months} if not p.is_month else {})}
            for r in agg.unit_status.itertuples(index=False)]
    if as_json:
        emit(True, {"units": rows, "completeness": agg.completeness.to_dict(orient="records")})
        raise typer.Exit(0)
    table = Table(title=f"Tình hình nộp báo cáo {p.label} (hạn {agg.unit_status['due_date'].iloc[0]:%d/%m/%Y})"
                  if len(agg.unit_status) else "Không có đơn vị")
    for col in ("Mã", "Đơn vị", "Cấp", "Tình trạng", "Bản mới nhất", "Số lần gửi"):
        table.add_column(col, overflow="fold")
    colors = {"Đúng hạn": "green", "Muộn": "yellow", "Bị trả lại": "red", "Chưa nộp": "red", "Thiếu tháng": "yellow"}
    for r in rows:
        state = r["status"] + (f" ({r['months_accepted']}/{r['months_expected']} tháng"
                               + (f", thiếu tháng {r['missing_months']}" if r["missing_months"] else "") + ")"
                               if "months_expected" in r else "")
        table.add_row(r["unit"], r["name"], r["tier"], f"[{colors.get(r['status'], 'white')}]{state}[/]",
                      r["received_at"] or "", str(r["versions"]))
    console.print(table)
    _print_completeness(agg)


def _print_completeness(agg: Any) -> None:
    table = Table(title="Tổng hợp theo cấp")
    for col in ("Cấp", "Phải nộp", "Đúng hạn", "Muộn", "Bị trả lại", "Chưa nộp"):
        table.add_column(col, justify="right" if col != "Cấp" else "left")
    for r in agg.completeness.itertuples(index=False):
        table.add_row(r.tier_name, str(r.expected), str(r.on_time), str(r.late), str(r.rejected), str(r.missing))
    console.print(table)


@app.command("aggregate")
def aggregate_cmd(workspace: Path = WS_OPT, period: str = PERIOD_ANY_OPT, as_json: bool = JSON_OPT,
                  csv_dir: Path = typer.Option(None, "--csv", help="Ghi mỗi bảng thành một tệp CSV trong thư mục này.")
                  ) -> None:
    """Tổng hợp số liệu: theo đơn vị, cấp, huyện, toàn tỉnh; kỳ trước, cùng kỳ, lũy kế.

    Ví dụ: cchc aggregate --workspace ws --period 2025-03 --json   |   cchc aggregate --workspace ws --period 2025
    """
    from .reporting import aggregate_period

    p = parse_any_period(period)
    if csv_dir:
        out_folder(csv_dir)
    ws = open_ws(workspace, as_json)
    agg = aggregate_period(ws, p)
    tables = {k: v for k, v in agg.tables().items() if k != "long"}
    if csv_dir:
        csv_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in agg.tables().items():
            _safe_frame(frame).to_csv(csv_dir / f"{name}-{p.code}.csv", index=False, encoding="utf-8-sig")
    if as_json:
        emit(True, {name: json.loads(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
                    for name, frame in tables.items()})
        raise typer.Exit(0)
    from ..core.vntext import format_percent

    table = Table(title=f"Kết quả theo cấp {p.label} (tỷ lệ gộp)")
    for col in ("Chỉ tiêu", "Cấp", "Kết quả", "Chỉ tiêu giao", "Kỳ trước", "Lũy kế", "Đạt/Báo cáo"):
        table.add_column(col, overflow="fold")
    g = agg.groups
    for r in g[g["level"] == "tier"].itertuples(index=False):
        table.add_row(r.indicator, r.group_name, format_percent(None if r.value != r.value else r.value),
                      r.target_label, format_percent(None if r.value_prev != r.value_prev else r.value_prev),
                      format_percent(None if r.value_ytd != r.value_ytd else r.value_ytd),
                      f"{r.units_met}/{r.units_reported}")
    console.print(table)
    _print_completeness(agg)
    if csv_dir:
        console.print(f"Đã ghi các bảng CSV vào {csv_dir}.")


def _safe_frame(frame: Any) -> Any:
    """CSV cells from clerks' text must not start a formula when the CSV is opened in Excel."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind == "O":  # object and pandas' string dtypes ("str" under pandas 3)
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t",
                                                                                          "\r") else v)
    return out


@app.command("report")
def report_cmd(workspace: Path = WS_OPT, period: str = PERIOD_ANY_OPT,
               out: Path = typer.Option(..., "--out", "-o", help="Thư mục ghi báo cáo."),
               on: str = typer.Option(None, "--date", help="Ngày ký báo cáo: 15/03/2025 hoặc 2025-03-15; mặc định: hạn báo cáo."),
               no_pdf: bool = typer.Option(False, "--no-pdf", help="Không chuyển sang PDF."),
               template: Path = typer.Option(None, "--template", help="Mẫu Word (.docx) thay cho mẫu mặc định."),
               final: bool = typer.Option(False, "--final",
                                          help="Bản chính thức: không xuất khi còn mục chờ văn phòng viết "
                                               "(mặc định: bản dự thảo, có chữ DỰ THẢO)."),
               as_json: bool = JSON_OPT) -> None:
    """Lập báo cáo Word (và PDF nếu có LibreOffice) cùng bảng tổng hợp Excel.

    Ví dụ: cchc report --workspace ws --period 2025-03 --out bao-cao/   (quý: --period 2025-Q1; năm: 2025)
    """
    from ..documents.report import PlaceholdersLeft
    from .reporting import write_reports

    p = parse_any_period(period)
    issue = parse_date_option(on, "Ngày ký (--date)")
    ws = open_ws(workspace, as_json)
    try:
        files = write_reports(ws, p, out, issue_date=issue, pdf=not no_pdf, template=template, final=final)
    except PlaceholdersLeft as exc:
        raise Refusal(problem("report-not-final", value=len(exc.left), detail="; ".join(exc.left))) from exc
    result = {"docx": str(files.docx), "xlsx": str(files.xlsx), "pdf": str(files.pdf) if files.pdf else None}
    if as_json:
        emit(True, result)
        raise typer.Exit(0)
    console.print(f"Báo cáo Word: {files.docx}")
    console.print(f"Bảng tổng hợp Excel: {files.xlsx}")
    console.print(f"PDF: {files.pdf}" if files.pdf else "PDF: không tạo (chưa cài LibreOffice hoặc dùng --no-pdf).")


@app.command("followup")
def followup_cmd(workspace: Path = WS_OPT,
                 period: str = typer.Option(..., "--period", "-p",
                                            help="Một tháng (2025-03) hoặc cả năm (2025: các tháng đã có số liệu)."),
                 out: Path = typer.Option(..., "--out", "-o", help="Thư mục ghi bảng theo dõi (Word và Excel)."),
                 on: str = typer.Option(None, "--date", help="Năm ghi ở dòng “Kèm theo Báo cáo số …” lấy theo "
                                                             "ngày này (mặc định: năm của kỳ)."),
                 as_json: bool = JSON_OPT) -> None:
    """Bảng theo dõi thực hiện nhiệm vụ, chỉ tiêu của Kế hoạch (phụ lục Word và bảng Excel).

    Ví dụ: cchc followup --workspace ws --period 2025 --out theo-doi/
    """
    from .reporting import write_followup

    try:
        p = Period.parse(period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    issue = parse_date_option(on, "Ngày (--date)")
    ws = open_ws(workspace, as_json)
    out_folder(out)
    files = write_followup(ws, p, out, issue_date=issue)
    table = files.followup.table
    if as_json:
        emit(True, {"docx": str(files.docx), "xlsx": str(files.xlsx), **table.to_dict()})
        raise typer.Exit(0)
    console.print(table.data_note, highlight=False)
    grid = Table(title=table.title, show_lines=True)
    for col in ("STT", "Nội dung/chỉ tiêu", "Thời hạn", "Ghi chú"):
        grid.add_column(col, overflow="fold")
    for r in table.rows:
        grid.add_row(r.number, r.content[:80] + ("…" if len(r.content) > 80 else ""), r.deadline, r.note)
    console.print(grid)
    console.print(f"Phụ lục Word: {files.docx}")
    console.print(f"Bảng Excel: {files.xlsx}")


@app.command("check-template")
def check_template_cmd(template: Path = typer.Argument(..., help="Mẫu báo cáo Word (.docx)."),
                       workspace: Path = typer.Option(None, "--workspace", "-w",
                                                      help="Kiểm tra thêm các trường mẫu dùng mà dữ liệu không có."),
                       period: str = typer.Option(None, "--period", "-p",
                                                  help="Kỳ báo cáo (dùng cùng --workspace), ví dụ 2025-03."),
                       as_json: bool = JSON_OPT) -> None:
    """Kiểm tra mẫu Word: tệp không phải .docx, thẻ {{ }} / {% %} hỏng (kèm số đoạn), khối chưa đóng, trường
    dữ liệu không có.

    Ví dụ: cchc check-template templates/report/bao-cao-thang.docx
    """
    from .. import bundled
    from ..documents.report import check_template

    context = None
    if workspace and period:
        from ..core.narrative import build_context
        from .reporting import aggregate_period, default_issue_date

        ws = open_ws(workspace, as_json)
        p = parse_period(period)
        context = build_context(ws.plan, ws.registry, aggregate_period(ws, p), report_cfg=ws.report,
                                issue_date=default_issue_date(ws, p))
    else:
        sample = bundled.template_file("report", "sample-context.json")
        context = json.loads(sample.read_text(encoding="utf-8")) if sample.is_file() else None
    report = ValidationReport(check_template(template, context))
    if as_json:
        emit(report.ok, {"template": str(template)}, report)
    elif report.problems:
        print_problems(report)
    else:
        console.print(f"Mẫu {template} không có lỗi.")
    raise typer.Exit(0 if report.ok else 1)


@app.command("demo")
def demo_cmd(out: Path = typer.Option(Path("cchc-demo"), "--out", "-o", help="Thư mục ghi kết quả demo."),
             quiet: bool = QUIET_OPT, as_json: bool = JSON_OPT,
             no_pdf: bool = typer.Option(False, "--no-pdf", help="Không chuyển báo cáo sang PDF.")) -> None:
    """Chạy trọn một chu kỳ trên dữ liệu mẫu Ninh Thuận 2025 (nhập 3 tháng, tổng hợp, lập báo cáo).

    Ví dụ: cchc demo --out demo-out
    """
    from .demo import run_demo

    out_folder(out)
    result = run_demo(out, pdf=not no_pdf, say=(lambda *_: None) if (quiet or as_json) else console.print)
    if as_json:
        emit(True, result)
        raise typer.Exit(0)
    if not quiet:
        console.print("\nKết quả:")
        for key, value in result["outputs"].items():
            console.print(f"  {key}: {value}")


# ------------------------------------------------------------------------------------------------
# the store: schema upgrades, check-up, backup and restore (docs/store.md)

db_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                     help="Kho lưu trữ: nâng cấp lược đồ, kiểm tra toàn vẹn.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade_cmd(workspace: Path = WS_OPT, as_json: bool = JSON_OPT) -> None:
    """Nâng cấp kho lưu trữ lên lược đồ của phiên bản này (sao lưu trước: cchc backup).

    Ví dụ: cchc db upgrade --workspace ws
    """
    from ..archive.schema import upgrade_store

    ws = open_ws(workspace, as_json)
    done = upgrade_store(ws.store_url)
    result = {"store": done.store, "before": done.before, "after": done.after, "changed": done.changed}
    if as_json:
        emit(True, result)
    elif done.changed:
        console.print(f"Đã nâng cấp kho {done.store}: lược đồ {done.before or '(trống)'} → {done.after}.")
    else:
        console.print(f"Kho {done.store} đã ở lược đồ mới nhất ({done.after}); không cần nâng cấp.")
    raise typer.Exit(0)


def _check_result(outcome: Any) -> dict[str, Any]:
    return {"store": outcome.store, "schema": outcome.schema, "rows": outcome.rows,
            "archived_files": outcome.archived_files}


@db_app.command("check")
def db_check_cmd(workspace: Path = WS_OPT, as_json: bool = JSON_OPT) -> None:
    """Kiểm tra kho lưu trữ: toàn vẹn cơ sở dữ liệu, mọi tệp lưu trữ còn đủ và đúng mã băm, không bản nộp
    nào thiếu tệp gốc. Mã thoát 1 nếu có lỗi.

    Ví dụ: cchc db check --workspace ws   (cũng là: cchc check --workspace ws)
    """
    from ..archive.backup import check_store

    ws = open_ws(workspace, as_json)
    outcome = check_store(ws.store_url, ws.archive_dir)
    ok = outcome.report.ok
    if as_json:
        emit(ok, _check_result(outcome), outcome.report)
    else:
        print_problems(outcome.report)
        word = "không có lỗi" if ok else f"có {len(outcome.report.errors)} lỗi"
        console.print(f"Kho {outcome.store} (lược đồ {outcome.schema}): {outcome.rows.get('submissions', 0)} bản "
                      f"nộp, {outcome.archived_files} tệp lưu trữ — {word}.")
    raise typer.Exit(0 if ok else 1)


app.command("check")(db_check_cmd)


@app.command("backup")
def backup_cmd(file: Path = typer.Argument(..., help="Tệp sao lưu sẽ ghi (.zip)."), workspace: Path = WS_OPT,
               as_json: bool = JSON_OPT) -> None:
    """Sao lưu thư mục làm việc vào một tệp .zip: cấu hình, kho lưu trữ và mọi tệp đã nhận. Chạy được
    trong khi đang nhập tệp.

    Ví dụ: cchc backup --workspace ws sao-luu/cchc-2025-03-31.zip
    """
    from ..archive.backup import backup_workspace

    if file.is_dir():
        raise typer.BadParameter(f"{file} là thư mục; cần tên tệp .zip.")
    ws = open_ws(workspace, as_json)
    done = backup_workspace(ws.root, ws.store_url, ws.archive_dir, file)
    ok = done.report.ok
    result = {"file": done.file, "store": done.store, "schema": done.schema, "rows": done.rows,
              "archived_files": done.archived_files, "workspace_files": done.workspace_files}
    if as_json:
        emit(ok, result, done.report)
    else:
        print_problems(done.report)
        console.print(f"Đã sao lưu vào {done.file}: {done.rows.get('submissions', 0)} bản nộp, "
                      f"{done.archived_files} tệp lưu trữ, {len(done.workspace_files)} tệp cấu hình.")
    raise typer.Exit(0 if ok else 1)


@app.command("restore")
def restore_cmd(file: Path = typer.Argument(..., help="Tệp sao lưu (.zip) do cchc backup ghi."),
                directory: Path = typer.Argument(..., help="Thư mục làm việc mới (chưa có hoặc trống)."),
                store: str = typer.Option(None, "--store",
                                          help="Kho lưu trữ đích (URL, trống); mặc định: mục 'store' của "
                                               "cchc.yaml trong bản sao lưu."),
                as_json: bool = JSON_OPT) -> None:
    """Khôi phục thư mục làm việc từ bản sao lưu, rồi kiểm tra kho như cchc check.

    Ví dụ: cchc restore sao-luu/cchc-2025-03-31.zip ws-khoi-phuc
    """
    from ..archive.backup import restore_workspace

    if not file.is_file():
        raise typer.BadParameter(f"Không tìm thấy tệp sao lưu {file}.")
    done = restore_workspace(file, directory, store_url=store)
    report = done.check.report if done.check else ValidationReport()
    result = {"folder": done.folder, "store": done.store, "schema": done.schema, "rows": done.rows,
              "archived_files": done.archived_files}
    if as_json:
        emit(report.ok, result, report)
    else:
        print_problems(report)
        console.print(f"Đã khôi phục vào {done.folder}: {done.rows.get('submissions', 0)} bản nộp, "
                      f"{done.archived_files} tệp lưu trữ (kho {done.store}).")
    raise typer.Exit(0 if report.ok else 1)


# ------------------------------------------------------------------------------------------------
# the office's web page and its accounts (issue 14; docs/web.md)

user_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Tài khoản đăng nhập trang web (cchc serve).")
app.add_typer(user_app, name="user")


@app.command("serve")
def serve_cmd(workspace: Path = WS_OPT,
              host: str = typer.Option("127.0.0.1", "--host",
                                       help="Địa chỉ nghe; khác 127.0.0.1 thì phải có tài khoản (cchc user add)."),
              port: int = typer.Option(0, "--port", help="Cổng; 0: máy tự chọn cổng trống."),
              no_browser: bool = typer.Option(False, "--no-browser", help="Không tự mở trình duyệt."),
              no_pdf: bool = typer.Option(False, "--no-pdf", help="Lập báo cáo không chuyển sang PDF.")) -> None:
    """Mở trang web của văn phòng: tổng quan kỳ, đôn đốc, nhận tệp, đơn vị, biểu mẫu, báo cáo.

    Ví dụ: cchc serve --workspace ws   (Ctrl-C để dừng)
    """
    from .web import serve

    ws = open_ws(workspace, False)
    try:
        serve(ws, host=host, port=port, open_browser=not no_browser, pdf=False if no_pdf else None,
              announce=lambda s: console.print(s, highlight=False))
    except KeyboardInterrupt:
        pass   # Ctrl-C is how the page is meant to stop: uvicorn has already closed every connection
    err.print("Đã dừng trang web.")


def _ws_engine(workspace: Path, as_json: bool) -> Any:
    from ..archive.importing import store_for

    return store_for(open_ws(workspace, as_json))


@user_app.command("add")
def user_add_cmd(name: str = typer.Argument(..., help="Tên tài khoản (chữ không dấu, số, . - _)."),
                 role: str = typer.Option(..., "--role", help="office (nhập tệp, lập báo cáo) hoặc viewer (chỉ xem)."),
                 workspace: Path = WS_OPT,
                 password_stdin: bool = typer.Option(False, "--password-stdin",
                                                     help="Đọc mật khẩu từ đầu vào chuẩn (cho script)."),
                 as_json: bool = JSON_OPT) -> None:
    """Tạo tài khoản đăng nhập trang web; mật khẩu được hỏi hai lần, không hiện trên màn hình.

    Ví dụ: cchc user add lan --role office --workspace ws
    """
    from . import users

    users.check_new_user(name, role, "x" * users.MIN_PASSWORD)
    if password_stdin:
        password, confirm = sys.stdin.readline().rstrip("\r\n"), None
    else:
        password = typer.prompt("Mật khẩu", hide_input=True, err=True)
        confirm = typer.prompt("Nhập lại mật khẩu", hide_input=True, err=True)
    users.check_new_user(name, role, password, confirm)
    with _ws_engine(workspace, as_json) as store:
        account = users.add_user(store.engine, name, role, password)
    if as_json:
        emit(True, {"name": account.name, "role": account.role})
        raise typer.Exit(0)
    console.print(f"Đã tạo tài khoản {account.name} ({users.ROLE_LABELS[account.role]}).")


@user_app.command("list")
def user_list_cmd(workspace: Path = WS_OPT, as_json: bool = JSON_OPT) -> None:
    """Các tài khoản trang web.

    Ví dụ: cchc user list --workspace ws
    """
    from . import users

    with _ws_engine(workspace, as_json) as store:
        accounts = users.list_users(store.engine)
    if as_json:
        emit(True, [{"name": a.name, "role": a.role, "created_at": str(a.created_at)} for a in accounts])
        raise typer.Exit(0)
    table = Table(title=f"{len(accounts)} tài khoản")
    for col in ("Tài khoản", "Vai trò", "Tạo lúc"):
        table.add_column(col)
    for a in accounts:
        table.add_row(a.name, users.ROLE_LABELS.get(a.role, a.role), f"{a.created_at:%d/%m/%Y %H:%M}")
    console.print(table)


@user_app.command("remove")
def user_remove_cmd(name: str = typer.Argument(..., help="Tên tài khoản."), workspace: Path = WS_OPT,
                    as_json: bool = JSON_OPT) -> None:
    """Xóa tài khoản trang web (phiên đăng nhập của tài khoản đó hết hiệu lực ngay).

    Ví dụ: cchc user remove lan --workspace ws
    """
    from . import users

    with _ws_engine(workspace, as_json) as store:
        users.remove_user(store.engine, name)
    if as_json:
        emit(True, {"name": name})
        raise typer.Exit(0)
    console.print(f"Đã xóa tài khoản {name}.")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("Đã dừng.")
        sys.exit(130)
