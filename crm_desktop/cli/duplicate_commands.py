"""``crm duplicates`` (list probable duplicates, or dismiss a pair) and ``crm merge``."""

from __future__ import annotations

import argparse

from ..services import duplicates, merge, prospects
from .commands import CliError, opened
from .output import Table, out, print_block, print_json
from .parser import Commands
from .support import REF_HELP, positive


def cmd_duplicates(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        pairs = duplicates.probable_duplicates(ctx, limit=args.limit)
    if args.json:
        print_json([p.to_dict() for p in pairs])
        return 0
    if not pairs:
        out("No probable duplicates.")
        return 0
    table = Table(
        ["ID", "Name", "ID", "Name", "School", "Why", "Names alike"],
        [10, 30, 10, 30, 40, 32, 11],
        exact={0, 2},
    )
    table.print_rows(
        [
            [str(p.first_id), p.first_name, str(p.second_id), p.second_name, p.school or "",
             p.reason, f"{p.score}%"]
            for p in pairs
        ]
    )  # fmt: skip
    out("")
    out("Merge a pair with 'crm merge KEEP OTHER', or mark it as two people with "
        "'crm duplicates dismiss ID ID'.")  # fmt: skip
    return 0


def cmd_dismiss(args: argparse.Namespace) -> int:
    with opened(args) as ctx:
        a = prospects.find_prospect(ctx, args.first)
        b = prospects.find_prospect(ctx, args.second)
        duplicates.dismiss_pair(ctx, a.id, b.id)
    if args.json:
        print_json({"dismissed": [min(a.id, b.id), max(a.id, b.id)]})
    else:
        out(f"Marked {a.full_name} (#{a.id}) and {b.full_name} (#{b.id}) as different people: "
            "they are no longer listed as probable duplicates.")  # fmt: skip
    return 0


def _choices(args: argparse.Namespace) -> dict[str, str]:
    choices: dict[str, str] = {}
    for side, names in ((merge.OTHER, args.take or ()), (merge.KEEP, args.keep_field or ())):
        for text in names:
            for name in text.split(","):
                if name.strip():
                    if choices.get(name.strip()) not in (None, side):
                        raise CliError(f"'{name.strip()}' is given to both --take and --keep.")
                    choices[name.strip()] = side
    return choices


def _preview_lines(preview: merge.MergePreview, choices: dict[str, str]) -> list[tuple[str, str]]:
    keep, other = preview.keep, preview.other
    picked = merge.parse_choices(choices)
    rows = [("Records", f"#{keep.id} (kept)  |  #{other.id} (merged in, then deleted)")]
    for field, label in merge.FIELDS:
        side = picked.get(field) or preview.defaults[field]
        mine, theirs = keep.values[field] or "-", other.values[field] or "-"
        if mine == theirs:
            rows.append((label, mine))
        else:
            result = theirs if side == merge.OTHER else mine
            rows.append((label, f"{mine}  |  {theirs}  ->  {result}"))

    def counts(s: merge.MergeSide) -> str:
        return (f"{s.correspondence} contacts, {s.consent_events} consent events, "
                f"{s.exports} exports, {s.requests} requests")  # fmt: skip

    rows.append(("Brings", f"{counts(keep)}  |  {counts(other)}"))
    opted = sorted(set(keep.opted_out) | set(other.opted_out))
    rows.append(("Opted out", ", ".join(opted) or "-"))
    if keep.restricted or other.restricted:
        rows.append(("Restricted", "yes (carried over)"))
    return rows


def cmd_merge(args: argparse.Namespace) -> int:
    choices = _choices(args)
    with opened(args) as ctx:
        keep = prospects.find_prospect(ctx, args.keep)
        other = prospects.find_prospect(ctx, args.other)
        preview = merge.merge_preview(ctx, keep.id, other.id)
        if not args.yes:
            if not args.json:
                print_block(_preview_lines(preview, choices))
            else:
                print_json(preview.to_dict())
            raise CliError(
                f"Nothing was merged: add --yes to merge #{other.id} into #{keep.id} "
                f"(#{other.id} is then deleted)."
            )
        view = merge.merge_prospects(
            ctx, keep.id, other.id, choices,
            keep_version=preview.keep.version, other_version=preview.other.version,
        )  # fmt: skip
    if args.json:
        print_json(view.to_dict())
    else:
        out(f"Merged {other.full_name} (#{other.id}) into {view.full_name} (#{view.id}); "
            f"#{other.id} was deleted.")  # fmt: skip
    return 0


def register(commands: Commands) -> None:
    listed = commands.command(
        "duplicates", cmd_duplicates, "List probable duplicate prospects, or dismiss a pair."
    )
    listed.description = (
        "List pairs of prospects that may be one person: a similar name at the same school, "
        "the same phone number, or one's extra email address the other's. Strongest "
        "evidence first; 'Names alike' is how alike the two names are."
    )
    listed.add_argument("--limit", type=positive, metavar="N", help="at most N pairs")
    actions = commands.optional_actions(listed)
    dismiss = actions.command(
        "dismiss", cmd_dismiss, "Mark two prospects as different people (not listed again)."
    )
    dismiss.add_argument("first", metavar="EMAIL|ID", help=REF_HELP)
    dismiss.add_argument("second", metavar="EMAIL|ID", help=REF_HELP)

    merged = commands.command("merge", cmd_merge, "Merge two records of one person into one.")
    merged.description = (
        "Merge OTHER into KEEP, then delete OTHER. KEEP keeps its own values except where it "
        "has none, unless --take names fields to take from OTHER. Correspondence, consent "
        "history, exports, requests and interests are combined; any opt-out, objection or "
        "restriction on either record carries over; OTHER's email and phone are kept as "
        "extra addresses. Without --yes, shows what would happen and merges nothing."
    )
    fields = ", ".join(name.replace("_", "-") for name, _ in merge.FIELDS)
    merged.add_argument("keep", metavar="KEEP", help="the record kept: " + REF_HELP)
    merged.add_argument("other", metavar="OTHER", help="the record merged in: " + REF_HELP)
    merged.add_argument(
        "--take", action="append", metavar="FIELD",
        help=f"take this field from OTHER (repeatable, or comma-separated): {fields}",
    )  # fmt: skip
    merged.add_argument(
        "--keep", dest="keep_field", action="append", metavar="FIELD",
        help="keep KEEP's value of this field even when it is empty",
    )  # fmt: skip
    merged.add_argument("--yes", action="store_true", help="yes, merge them")
