"""List audiences: a CSV of identities uploaded, matched to profiles, with a report of what did not match.

The file's first row names its identity columns (any of ``user_id``, ``email``, ``phone``,
``anonymous_id``; other columns are ignored). Values are normalized as collection does (emails
lower-cased, phones as ``+digits``), looked up in one query per namespace and chunk, and a row
matches when its identities point to exactly one profile. ``replace`` makes the members exactly the
matched profiles; ``add`` only adds. Entries and exits are recorded like any other (``how = list``)
and announced, so destinations receive them.
"""

import csv
import io
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cxo_site.errors import DomainError
from profiles import identity as ids
from profiles.models import Identity
from segments.models import Audience, AudienceListUpload, Membership

COLUMNS = (ids.USER_ID, ids.EMAIL, ids.PHONE, ids.ANONYMOUS_ID)
ALIASES = {
    "userid": ids.USER_ID,
    "user id": ids.USER_ID,
    "e-mail": ids.EMAIL,
    "mail": ids.EMAIL,
    "anonymousid": ids.ANONYMOUS_ID,
    "mobile": ids.PHONE,
    "phone_number": ids.PHONE,
}
UNMATCHED_KEPT = 10_000
LOOKUP_CHUNK = 5_000


class ListError(DomainError):
    """The file cannot be read as a list (reported on the ``file`` field)."""

    def __init__(self, message: str):
        super().__init__(message, field="file", code="invalid_list")


def read_rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The identity columns found and each row's values by namespace; raises ListError."""
    limit = settings.CXO_LIST_UPLOAD_MAX_BYTES
    if len(data) > limit:
        raise ListError(f"The file is larger than {limit // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise ListError("The file is not text (save it as CSV, UTF-8).") from error
    if not text.strip():
        raise ListError("The file is empty.")
    first_line = text.splitlines()[0]
    delimiter = max(",;\t|", key=first_line.count) if any(c in first_line for c in ",;\t|") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [_column(name) for name in next(reader)]
    found = [name for name in COLUMNS if name in header]
    if not found:
        raise ListError("The first row must name at least one identity column: " + ", ".join(COLUMNS) + ".")
    positions = {name: header.index(name) for name in found}
    rows = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        rows.append({name: (record[i].strip() if i < len(record) else "") for name, i in positions.items()})
    if not rows:
        raise ListError("The file has a header but no rows.")
    return found, rows


def _column(name: str) -> str:
    """A header cell as an identity namespace where it names one (``E-mail`` → ``email``)."""
    key = name.strip().lower()
    return ALIASES.get(key, key.replace("-", "_"))


def match_rows(rows: list[dict[str, str]]) -> tuple[dict[int, int], list[dict]]:
    """Row number (1 = the first data row) → profile id, and the unmatched rows with reasons."""
    normalized = [{ns: ids.normalize(ns, value) for ns, value in row.items()} for row in rows]
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in normalized:
        for namespace, value in row.items():
            if value:
                wanted[namespace].add(value)
    owner: dict[tuple[str, str], int] = {}
    for namespace, values in wanted.items():
        values = sorted(values)
        for start in range(0, len(values), LOOKUP_CHUNK):
            found = Identity.objects.filter(
                namespace=namespace, value__in=values[start : start + LOOKUP_CHUNK]
            )
            owner.update({(namespace, v): pk for v, pk in found.values_list("value", "profile_id")})
    matched: dict[int, int] = {}
    unmatched: list[dict] = []
    for number, (raw, row) in enumerate(zip(rows, normalized, strict=True), start=1):
        usable = {ns: v for ns, v in row.items() if v}
        profiles = {owner[(ns, v)] for ns, v in usable.items() if (ns, v) in owner}
        if len(profiles) == 1:
            matched[number] = profiles.pop()
            continue
        if not usable:
            reason = "no usable identity (empty, or not a valid email/phone)"
        elif not profiles:
            reason = "no profile has these identities"
        else:
            reason = f"the identities belong to {len(profiles)} different profiles"
        unmatched.append({"row": number, "values": raw, "reason": reason})
    return matched, unmatched


@transaction.atomic
def upload_list(
    *, audience: Audience, data: bytes, filename: str = "", mode: str = "replace", uploaded_by=None
) -> AudienceListUpload:
    """Match the CSV ``data`` and make (replace) or extend (add) the list audience's members."""
    if audience.kind != Audience.Kind.LIST:
        raise DomainError("Only list audiences take uploaded lists.", field="audience", code="not_a_list")
    if mode not in AudienceListUpload.Mode.values:
        raise DomainError("mode is 'replace' or 'add'.", field="mode", code="invalid_mode")
    columns, rows = read_rows(data)
    matched, unmatched = match_rows(rows)
    from segments.services import record_size, write_changes

    now = timezone.now()
    wanted = set(matched.values())
    current = set(
        Membership.objects.select_for_update()
        .filter(audience=audience, exited_at=None)
        .values_list("profile_id", flat=True)
    )
    exited = sorted(current - wanted) if mode == AudienceListUpload.Mode.REPLACE else []
    counts = write_changes(
        audience, entered=sorted(wanted - current), exited=exited, how=Membership.How.LIST, now=now
    )
    record_size(audience, size=counts["size"], now=now)
    return AudienceListUpload.objects.create(
        audience=audience,
        uploaded_by=uploaded_by,
        filename=filename[:255],
        mode=mode,
        columns=columns,
        rows=len(rows),
        matched_rows=len(matched),
        matched_profiles=len(wanted),
        unmatched_count=len(unmatched),
        unmatched=unmatched[:UNMATCHED_KEPT],
        entered=counts["entered"],
        exited=counts["exited"],
    )


def unmatched_csv(upload: AudienceListUpload) -> str:
    """The unmatched rows as CSV: row number, the file's identity columns, reason."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", *upload.columns, "reason"])
    for item in upload.unmatched:
        writer.writerow(
            [item["row"], *[_safe(item["values"].get(c, "")) for c in upload.columns], item["reason"]]
        )
    return out.getvalue()


def _safe(value: str) -> str:
    """Neutralise spreadsheet formulas in values we did not write (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
