"""English local authorities, their towns and postcode districts (for demo data).

A small, fixed table that agrees with itself: each town lies in its
authority, and its postcode districts are ones the town's post town really
uses. ``domain`` is the label the authority's schools use under ``sch.uk``
(``oakfield.herts.sch.uk``), written out once here, never cut from the name.

``area_code`` is the town's dialling code when Ofcom reserves numbers in it
for drama (``0113 496 0000``-``0999``, ``0191 498 0000``-``0999``, ...): demo
phone numbers use those ranges, so none of them can ring a real school.
Towns whose code has no such range get ``None`` and a number from Ofcom's
non-geographic drama range (``01632 960xxx``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Town:
    name: str
    districts: tuple[str, ...]  # outward codes, e.g. ("AL1", "AL2")
    area_code: str | None = None  # "0113": has an Ofcom drama range


@dataclass(frozen=True)
class Authority:
    name: str  # as Get Information about Schools names it (short form)
    domain: str  # <school>.<domain>.sch.uk
    towns: tuple[Town, ...]


def _d(area: str, *ranges: tuple[int, int] | int) -> tuple[str, ...]:
    """Districts from number ranges: ``_d("AL", (1, 4))`` -> AL1..AL4."""
    out: list[str] = []
    for r in ranges:
        lo, hi = r if isinstance(r, tuple) else (r, r)
        out.extend(f"{area}{n}" for n in range(lo, hi + 1))
    return tuple(out)


# Ofcom's drama ranges by dialling code: national significant number prefix
# (without the leading 0) followed by three free digits.
DRAMA_PREFIX: dict[str | None, str] = {
    "0113": "1134960",
    "0114": "1144960",
    "0116": "1164960",
    "0117": "1174960",
    "0118": "1184960",
    "0121": "1214960",
    "0151": "1514960",
    "0161": "1614960",
    "0191": "1914980",
    None: "1632960",
}

AUTHORITIES: tuple[Authority, ...] = (
    Authority("Hertfordshire", "herts", (
        Town("St Albans", _d("AL", (1, 4))),
        Town("Harpenden", _d("AL", 5)),
        Town("Welwyn Garden City", _d("AL", (7, 8))),
        Town("Watford", _d("WD", (17, 19), (24, 25))),
        Town("Stevenage", _d("SG", (1, 2))),
        Town("Hitchin", _d("SG", (4, 5))),
        Town("Letchworth Garden City", _d("SG", 6)),
        Town("Hertford", _d("SG", (13, 14))),
        Town("Hemel Hempstead", _d("HP", (1, 3))),
        Town("Bishop's Stortford", _d("CM", 23)),
    )),
    Authority("Kent", "kent", (
        Town("Maidstone", _d("ME", (14, 17))),
        Town("Sittingbourne", _d("ME", 10)),
        Town("Canterbury", _d("CT", (1, 2))),
        Town("Margate", _d("CT", 9)),
        Town("Dover", _d("CT", (16, 17))),
        Town("Folkestone", _d("CT", (19, 20))),
        Town("Ashford", _d("TN", (23, 24))),
        Town("Tunbridge Wells", _d("TN", (1, 2), 4)),
        Town("Sevenoaks", _d("TN", (13, 14))),
    )),
    Authority("Devon", "devon", (
        Town("Exeter", _d("EX", (1, 2), 4)),
        Town("Exmouth", _d("EX", 8)),
        Town("Tiverton", _d("EX", 16)),
        Town("Okehampton", _d("EX", 20)),
        Town("Barnstaple", _d("EX", (31, 32))),
        Town("Bideford", _d("EX", 39)),
        Town("Totnes", _d("TQ", 9)),
        Town("Newton Abbot", _d("TQ", 12)),
    )),
    Authority("Lancashire", "lancs", (
        Town("Preston", _d("PR", (1, 2))),
        Town("Chorley", _d("PR", (6, 7))),
        Town("Lancaster", _d("LA", 1)),
        Town("Burnley", _d("BB", (10, 12))),
        Town("Accrington", _d("BB", 5)),
        Town("Clitheroe", _d("BB", 7)),
        Town("Ormskirk", _d("L", 39)),
        Town("Skelmersdale", _d("WN", 8)),
    )),
    Authority("Norfolk", "norfolk", (
        Town("Norwich", _d("NR", (1, 7))),
        Town("Wymondham", _d("NR", 18)),
        Town("Dereham", _d("NR", 19)),
        Town("Cromer", _d("NR", 27)),
        Town("Great Yarmouth", _d("NR", (30, 31))),
        Town("King's Lynn", _d("PE", (30, 31))),
        Town("Thetford", _d("IP", 24)),
    )),
    Authority("Surrey", "surrey", (
        Town("Guildford", _d("GU", (1, 4))),
        Town("Farnham", _d("GU", (9, 10))),
        Town("Camberley", _d("GU", (15, 16))),
        Town("Woking", _d("GU", (21, 22))),
        Town("Epsom", _d("KT", (17, 19))),
        Town("Leatherhead", _d("KT", 22)),
        Town("Redhill", _d("RH", 1)),
        Town("Reigate", _d("RH", 2)),
    )),
    Authority("Oxfordshire", "oxon", (
        Town("Oxford", _d("OX", (1, 4))),
        Town("Chipping Norton", _d("OX", 7)),
        Town("Didcot", _d("OX", 11)),
        Town("Wantage", _d("OX", 12)),
        Town("Abingdon", _d("OX", 14)),
        Town("Banbury", _d("OX", (15, 16))),
        Town("Bicester", _d("OX", 26)),
        Town("Witney", _d("OX", (28, 29))),
        Town("Henley-on-Thames", _d("RG", 9)),
    )),
    Authority("Cornwall", "cornwall", (
        Town("Truro", _d("TR", (1, 4))),
        Town("Newquay", _d("TR", (7, 8))),
        Town("Falmouth", _d("TR", 11)),
        Town("Camborne", _d("TR", 14)),
        Town("Redruth", _d("TR", (15, 16))),
        Town("Penzance", _d("TR", (18, 20))),
        Town("St Austell", _d("PL", (25, 26))),
        Town("Bodmin", _d("PL", 31)),
    )),
    Authority("Lincolnshire", "lincs", (
        Town("Lincoln", _d("LN", (1, 6))),
        Town("Louth", _d("LN", 11)),
        Town("Boston", _d("PE", 21)),
        Town("Stamford", _d("PE", 9)),
        Town("Spalding", _d("PE", (11, 12))),
        Town("Skegness", _d("PE", 25)),
        Town("Grantham", _d("NG", 31)),
        Town("Sleaford", _d("NG", 34)),
        Town("Gainsborough", _d("DN", 21)),
    )),
    Authority("Warwickshire", "warwickshire", (
        Town("Warwick", _d("CV", 34)),
        Town("Leamington Spa", _d("CV", (31, 32))),
        Town("Kenilworth", _d("CV", 8)),
        Town("Rugby", _d("CV", (21, 22))),
        Town("Nuneaton", _d("CV", (10, 11))),
        Town("Bedworth", _d("CV", 12)),
        Town("Atherstone", _d("CV", 9)),
        Town("Stratford-upon-Avon", _d("CV", 37)),
    )),
    Authority("North Yorkshire", "n-yorks", (
        Town("Harrogate", _d("HG", (1, 3))),
        Town("Ripon", _d("HG", 4)),
        Town("Knaresborough", _d("HG", 5)),
        Town("Scarborough", _d("YO", (11, 12))),
        Town("Whitby", _d("YO", (21, 22))),
        Town("Malton", _d("YO", 17)),
        Town("Thirsk", _d("YO", 7)),
        Town("Selby", _d("YO", 8)),
        Town("Northallerton", _d("DL", (6, 7))),
        Town("Skipton", _d("BD", 23)),
    )),
    Authority("Hampshire", "hants", (
        Town("Winchester", _d("SO", (22, 23))),
        Town("Eastleigh", _d("SO", 50)),
        Town("Romsey", _d("SO", 51)),
        Town("Basingstoke", _d("RG", (21, 24))),
        Town("Andover", _d("SP", (10, 11))),
        Town("Fareham", _d("PO", (14, 16))),
        Town("Aldershot", _d("GU", (11, 12))),
        Town("Petersfield", _d("GU", (31, 32))),
        Town("Alton", _d("GU", 34)),
    )),
    Authority("Leeds", "leeds", (
        Town("Leeds", _d("LS", (1, 17)), "0113"),
        Town("Garforth", _d("LS", 25), "0113"),
        Town("Morley", _d("LS", 27), "0113"),
        Town("Pudsey", _d("LS", 28), "0113"),
        Town("Otley", _d("LS", 21)),
    )),
    Authority("Sheffield", "sheffield", (
        Town("Sheffield", _d("S", (1, 14), 17, 20), "0114"),
    )),
    Authority("Manchester", "manchester", (
        Town("Manchester", _d("M", (1, 4), (8, 9), (11, 16), (18, 19), 40), "0161"),
        Town("Didsbury", _d("M", 20), "0161"),
        Town("Chorlton", _d("M", 21), "0161"),
        Town("Wythenshawe", _d("M", (22, 23)), "0161"),
    )),
    Authority("Bristol", "bristol", (
        Town("Bristol", _d("BS", (1, 11), (13, 14), 16), "0117"),
    )),
    Authority("Birmingham", "bham", (
        Town("Birmingham", _d("B", (1, 21), (23, 36), 38, 42, 44), "0121"),
        Town("Sutton Coldfield", _d("B", (72, 76)), "0121"),
    )),
    Authority("Liverpool", "liverpool", (
        Town("Liverpool", _d("L", (1, 19), (24, 25)), "0151"),
    )),
    Authority("Leicester", "leicester", (
        Town("Leicester", _d("LE", (1, 5)), "0116"),
    )),
    Authority("Newcastle upon Tyne", "newcastle", (
        Town("Newcastle upon Tyne", _d("NE", (1, 7), 13, 15), "0191"),
    )),
    Authority("Gateshead", "gateshead", (
        Town("Gateshead", _d("NE", (8, 11)), "0191"),
        Town("Blaydon-on-Tyne", _d("NE", 21), "0191"),
        Town("Ryton", _d("NE", 40), "0191"),
        Town("Rowlands Gill", _d("NE", 39)),
    )),
    Authority("County Durham", "durham", (
        Town("Durham", _d("DH", 1), "0191"),
        Town("Chester-le-Street", _d("DH", (2, 3)), "0191"),
        Town("Seaham", _d("SR", 7), "0191"),
        Town("Peterlee", _d("SR", 8), "0191"),
        Town("Consett", _d("DH", 8)),
        Town("Stanley", _d("DH", 9)),
        Town("Newton Aycliffe", _d("DL", 5)),
        Town("Barnard Castle", _d("DL", 12)),
        Town("Bishop Auckland", _d("DL", 14)),
    )),
)  # fmt: skip

BY_NAME: dict[str, Authority] = {a.name: a for a in AUTHORITIES}
SCHOOL_DOMAINS: frozenset[str] = frozenset(a.domain for a in AUTHORITIES)

# Letters used in the inward code's last two places (never C, I, K, M, O, V).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def outward(postcode: str) -> str:
    """The district part of a formatted postcode: 'AL1 3AB' -> 'AL1'."""
    return postcode.split()[0]
