"""A period report (statsvc.service.reports) as files to download: CSV and XLSX, with the
headings in the language in force (statsvc.i18n).

Both are drawn from one layout, a list of tables: the summary first (title, site, dates,
then the figures of the period, of the previous one and the change in percent), then the
days, the pages, the sources and, for a group, its member sites. The XLSX has a sheet per
table, numbers as numbers and dates as dates. The CSV is one file: the summary's rows, then
each other table after an empty row, a row with its name and a row of column headings; it
is UTF-8 with a byte-order mark, so that Excel reads the Vietnamese letters."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from statsvc.core.referrer import label
from statsvc.i18n import _, current

Cell = str | int | float | date | None
DATE_FORMATS = {"vi": "dd/mm/yyyy", "en": "yyyy-mm-dd"}  # how Excel shows a date cell
WIDTHS = {"A": 34, "B": 16, "C": 16, "D": 14}  # columns wide enough for the headings
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads such text as a formula
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True, slots=True)
class Table:
    """One table of a report: a sheet of the XLSX, a section of the CSV."""

    name: str
    header: list[str]
    rows: list[list[Cell]]


def file_name(report: dict[str, Any], extension: str) -> str:
    """Return the download's file name: plain ASCII, the site (or group) and the dates."""
    owner = report.get("group") or report.get("site") or "statsvc"
    word = "bao-cao" if current() == "vi" else "report"
    return f"{word}-{owner}-{report['from']}-{report['to']}.{extension}"


def layout(report: dict[str, Any]) -> list[Table]:
    """Return the report's tables, headed in the language in force."""
    previous = report["previous"]
    owner = report.get("group") or report.get("site")
    summary: list[list[Cell]] = [
        [_("Visit statistics report")],
        [_("Group") if "group" in report else _("Site"), owner, report.get("name")],
        [_("From"), date.fromisoformat(report["from"])],
        [_("To"), date.fromisoformat(report["to"])],
        [_("Time zone"), report["timezone"]],
        [
            _("Previous period"),
            date.fromisoformat(previous["from"]),
            date.fromisoformat(previous["to"]),
        ],
    ]
    change = report["change"]
    figures: list[list[Cell]] = [
        [_("Figure"), _("This period"), _("Previous period"), _("Change (%)")],
        [_("Views"), report["views"], previous["views"], change["views"]],
        [_("Visits"), report["visits"], previous["visits"], change["visits"]],
    ]
    grouped = "sites" in report
    tables = [
        Table(_("Summary"), [], [*summary, [], *figures]),
        Table(
            _("Days"),
            [_("Date"), _("Views"), _("Visits")],
            [[date.fromisoformat(d["date"]), d["views"], d["visits"]] for d in report["days"]],
        ),
        Table(
            _("Pages"),
            ([_("Site")] if grouped else []) + [_("Page"), _("Views")],
            [([p["site"]] if grouped else []) + [p["path"], p["views"]] for p in report["pages"]],
        ),
        Table(
            _("Sources"),
            [_("Source"), _("Host"), _("Visits")],
            [[label(s["source"]), s["source"], s["visits"]] for s in report["sources"]],
        ),
    ]
    if grouped:
        tables.append(
            Table(
                _("Member sites"),
                [_("Site"), _("Name"), _("Views"), _("Visits")],
                [[s["site"], s["name"], s["views"], s["visits"]] for s in report["sites"]],
            )
        )
    return tables


def to_csv(report: dict[str, Any]) -> bytes:
    """Return the report as one CSV file (UTF-8 with a byte-order mark)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    summary, *others = layout(report)
    writer.writerows([_csv_cell(cell) for cell in row] for row in summary.rows)
    for table in others:
        writer.writerow([])
        writer.writerow([table.name])
        writer.writerow(table.header)
        writer.writerows([_csv_cell(cell) for cell in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(report: dict[str, Any]) -> bytes:
    """Return the report as an XLSX workbook, a sheet per table (slow for long reports: call
    it in a thread)."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]  # the empty sheet a workbook starts with
    dates = DATE_FORMATS.get(current(), DATE_FORMATS["en"])
    bold = Font(bold=True)
    for table in layout(report):
        sheet = book.create_sheet(table.name[:31])  # Excel's longest sheet name
        if table.header:
            sheet.append(table.header)
            for cell in sheet[1]:
                cell.font = bold
        for row in table.rows:
            sheet.append(row)
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, date):
                    cell.number_format = dates
                elif cell.data_type == "f":  # text such as a name "=1+1": kept as text
                    cell.data_type = "s"
        for column, width in WIDTHS.items():
            sheet.column_dimensions[column].width = width
    book.worksheets[0]["A1"].font = Font(bold=True, size=14)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_cell(cell: Cell) -> str | int | float:
    if cell is None:
        return ""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell  # a name such as "=HYPERLINK(…)" stays text when Excel opens it
    return cell.isoformat() if isinstance(cell, date) else cell
