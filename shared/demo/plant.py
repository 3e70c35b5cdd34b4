"""The demo plant, "Cycles Jalon": a bicycle maker with city, trekking and kids' bikes.

4 end items over 3 families, 4 BOM levels, 46 items with shared components (wheels, drivetrains,
hardware), 7 work centers on 5 calendars (one, two and three shifts, a Saturday shift, a paint-line
maintenance window), 4 suppliers. Bodies follow /v1/masterdata (see API.md); the demo loads them in
one import.
"""

from __future__ import annotations

from typing import Any

Body = dict[str, Any]


def _item(
    sku: str,
    name: str,
    kind: str,
    family: str,
    lead: int,
    cost: str,
    *,
    uom: str = "EA",
    safety: str = "0",
    lot: Body | None = None,
    phantom: bool = False,
) -> Body:
    return {
        "sku": sku,
        "name": name,
        "uom": uom,
        "kind": kind,
        "family": family,
        "lead_time_days": lead,
        "safety_stock": safety,
        "lot_sizing": lot or {"rule": "lot_for_lot"},
        "standard_cost": cost,
        "phantom": phantom,
    }


FAMILIES: list[Body] = [
    {"code": "CITY", "name": "City bikes"},
    {"code": "TREK", "name": "Trekking bikes"},
    {"code": "KIDS", "name": "Kids' bikes"},
    {"code": "FRAMES", "name": "Frames and forks"},
    {"code": "WHEELS", "name": "Wheels"},
    {"code": "PARTS", "name": "Bought-in parts"},
    {"code": "RAW", "name": "Raw materials"},
]

UNITS: list[Body] = [
    {"code": "EA", "name": "each"},
    {"code": "M", "name": "metre"},
    {"code": "KG", "name": "kilogram"},
]

#: Make items assembled in batches of at least 20: also the lot that spreads setup in costing.
_MIN20: Body = {"rule": "lot_for_lot", "min_qty": "20"}

ITEMS: list[Body] = [
    # -- end items (level 0)
    _item("BIKE-CITY-M", "City bike, 52 cm frame", "make", "CITY", 2, "0", safety="5", lot=_MIN20),
    _item("BIKE-CITY-L", "City bike, 58 cm frame", "make", "CITY", 2, "0", safety="3", lot=_MIN20),
    _item("BIKE-TREK-M", "Trekking bike, 54 cm frame", "make", "TREK", 3, "0", safety="2", lot=_MIN20),
    _item(
        "BIKE-KIDS-20", "Kids' bike, 20 inch", "make", "KIDS", 2, "0", lot={"rule": "fixed", "quantity": "10"}
    ),
    # -- sub-assemblies
    _item(
        "FRAME-CITY-M",
        "Painted city frame 52",
        "make",
        "FRAMES",
        2,
        "0",
        lot={"rule": "period", "periods": 5, "min_qty": "20"},
    ),
    _item(
        "FRAME-CITY-L",
        "Painted city frame 58",
        "make",
        "FRAMES",
        2,
        "0",
        lot={"rule": "period", "periods": 5, "min_qty": "20"},
    ),
    _item(
        "FRAME-TREK-M",
        "Painted trekking frame 54",
        "make",
        "FRAMES",
        3,
        "0",
        lot={"rule": "period", "periods": 5, "min_qty": "20"},
    ),
    _item(
        "FRAME-KIDS-20",
        "Painted kids' frame",
        "make",
        "FRAMES",
        2,
        "0",
        lot={"rule": "fixed", "quantity": "20"},
    ),
    _item("WELD-CITY-M", "Welded city frame 52 (raw)", "make", "FRAMES", 1, "0", lot=_MIN20),
    _item("WELD-CITY-L", "Welded city frame 58 (raw)", "make", "FRAMES", 1, "0", lot=_MIN20),
    _item("WELD-TREK-M", "Welded trekking frame 54 (raw)", "make", "FRAMES", 2, "0", lot=_MIN20),
    _item(
        "WHEEL-700",
        "Wheel 700c, laced and trued",
        "make",
        "WHEELS",
        2,
        "0",
        lot={"rule": "fixed", "quantity": "50", "min_qty": "50"},
    ),
    _item(
        "WHEEL-20",
        "Wheel 20 inch, laced and trued",
        "make",
        "WHEELS",
        2,
        "0",
        lot={"rule": "fixed", "quantity": "40"},
    ),
    _item("DRIVE-7S", "7-speed drivetrain kit", "make", "PARTS", 1, "0", phantom=True),
    _item(
        "COCKPIT",
        "Handlebar assembly",
        "make",
        "PARTS",
        1,
        "0",
        lot={"rule": "lot_for_lot", "multiple": "10"},
    ),
    # -- bought parts
    _item(
        "TUBE-ALU-32",
        "Aluminium tube 32 mm",
        "buy",
        "RAW",
        10,
        "6.40",
        uom="M",
        lot={"rule": "lot_for_lot", "multiple": "6"},
    ),
    _item(
        "TUBE-ALU-28",
        "Aluminium tube 28 mm",
        "buy",
        "RAW",
        10,
        "5.10",
        uom="M",
        lot={"rule": "lot_for_lot", "multiple": "6"},
    ),
    _item("TUBE-STEEL-25", "Steel tube 25 mm", "buy", "RAW", 8, "3.20", uom="M"),
    _item("DROPOUT-SET", "Dropouts and bottom bracket shell", "buy", "PARTS", 15, "7.80"),
    _item(
        "PAINT-BLUE",
        "Powder paint, blue",
        "buy",
        "RAW",
        5,
        "14.00",
        uom="KG",
        lot={"rule": "eoq", "min_qty": "25"},
    ),
    _item(
        "PAINT-RED",
        "Powder paint, red",
        "buy",
        "RAW",
        5,
        "14.50",
        uom="KG",
        lot={"rule": "eoq", "min_qty": "25"},
    ),
    _item("FORK-CITY", "Rigid fork 700c", "buy", "FRAMES", 20, "18.00", safety="20"),
    _item("FORK-SUSP", "Suspension fork 700c", "buy", "FRAMES", 25, "64.00", safety="10"),
    _item("FORK-KIDS", "Fork 20 inch", "buy", "FRAMES", 20, "9.50"),
    _item("RIM-700", "Rim 700c", "buy", "WHEELS", 15, "11.20", safety="40"),
    _item("RIM-20", "Rim 20 inch", "buy", "WHEELS", 15, "6.30"),
    _item(
        "SPOKE",
        "Spoke, stainless",
        "buy",
        "WHEELS",
        10,
        "0.18",
        safety="2000",
        lot={"rule": "fixed", "quantity": "1000"},
    ),
    _item("HUB-700", "Hub 700c (front/rear pair averaged)", "buy", "WHEELS", 20, "14.00"),
    _item("HUB-20", "Hub 20 inch", "buy", "WHEELS", 20, "6.00"),
    _item("TIRE-700", "Tyre 700x38", "buy", "WHEELS", 10, "9.90", safety="40"),
    _item("TIRE-20", "Tyre 20x1.75", "buy", "WHEELS", 10, "5.50"),
    _item("CHAIN", "Chain 7/8-speed", "buy", "PARTS", 10, "6.90"),
    _item("CASSETTE-7S", "Freewheel 7-speed", "buy", "PARTS", 15, "12.40"),
    _item("DERAILLEUR-7S", "Rear derailleur 7-speed", "buy", "PARTS", 15, "15.60"),
    _item("SHIFTER-7S", "Shifter 7-speed", "buy", "PARTS", 15, "8.30"),
    _item("CRANKSET", "Crankset 44T", "buy", "PARTS", 15, "21.00"),
    _item("HANDLEBAR", "Handlebar, swept", "buy", "PARTS", 10, "7.40"),
    _item("GRIPS", "Grips, pair", "buy", "PARTS", 10, "2.10"),
    _item("BRAKE-SET", "V-brake set", "buy", "PARTS", 12, "13.80"),
    _item("SADDLE", "Saddle, comfort", "buy", "PARTS", 10, "9.20"),
    _item("SEATPOST", "Seat post 27.2", "buy", "PARTS", 10, "5.60"),
    _item("PEDALS", "Pedals, pair", "buy", "PARTS", 10, "4.70"),
    _item("LIGHT-SET", "Dynamo light set", "buy", "PARTS", 20, "16.50"),
    _item("RACK", "Rear rack", "buy", "PARTS", 20, "12.00"),
    _item("FENDERS", "Fender set", "buy", "PARTS", 15, "8.80"),
    _item(
        "BOLT-KIT",
        "Hardware kit",
        "buy",
        "PARTS",
        5,
        "1.30",
        safety="200",
        lot={"rule": "fixed", "quantity": "500"},
    ),
]


def _lines(*lines: tuple[str, str] | tuple[str, str, str]) -> list[Body]:
    out = []
    for line in lines:
        component, qty = line[0], line[1]
        scrap = line[2] if len(line) == 3 else "0"
        out.append({"component": component, "qty_per": qty, "scrap_pct": scrap})
    return out


_BIKE_COMMON = (
    ("WHEEL-700", "2"),
    ("DRIVE-7S", "1"),
    ("COCKPIT", "1"),
    ("BRAKE-SET", "1"),
    ("SADDLE", "1"),
    ("SEATPOST", "1"),
    ("PEDALS", "1"),
    ("BOLT-KIT", "1"),
)

BOMS: list[Body] = [
    {
        "parent": "BIKE-CITY-M",
        "lines": _lines(
            ("FRAME-CITY-M", "1"), ("FORK-CITY", "1"), *_BIKE_COMMON, ("FENDERS", "1"), ("LIGHT-SET", "1")
        ),
    },
    {
        "parent": "BIKE-CITY-L",
        "lines": _lines(
            ("FRAME-CITY-L", "1"), ("FORK-CITY", "1"), *_BIKE_COMMON, ("FENDERS", "1"), ("LIGHT-SET", "1")
        ),
    },
    {
        "parent": "BIKE-TREK-M",
        "lines": _lines(
            ("FRAME-TREK-M", "1"),
            ("FORK-SUSP", "1"),
            *_BIKE_COMMON,
            ("RACK", "1"),
            ("LIGHT-SET", "1"),
            ("FENDERS", "1"),
        ),
    },
    {
        "parent": "BIKE-KIDS-20",
        "lines": _lines(
            ("FRAME-KIDS-20", "1"),
            ("FORK-KIDS", "1"),
            ("WHEEL-20", "2"),
            ("COCKPIT", "1"),
            ("BRAKE-SET", "1"),
            ("SADDLE", "1"),
            ("PEDALS", "1"),
            ("CHAIN", "1"),
            ("CRANKSET", "1"),
            ("BOLT-KIT", "1"),
        ),
    },
    {"parent": "FRAME-CITY-M", "lines": _lines(("WELD-CITY-M", "1"), ("PAINT-BLUE", "0.35", "4"))},
    {"parent": "FRAME-CITY-L", "lines": _lines(("WELD-CITY-L", "1"), ("PAINT-BLUE", "0.40", "4"))},
    {"parent": "FRAME-TREK-M", "lines": _lines(("WELD-TREK-M", "1"), ("PAINT-RED", "0.40", "4"))},
    {
        "parent": "FRAME-KIDS-20",
        "lines": _lines(("TUBE-STEEL-25", "1.9", "3"), ("DROPOUT-SET", "1"), ("PAINT-RED", "0.25", "4")),
    },
    {
        "parent": "WELD-CITY-M",
        "lines": _lines(("TUBE-ALU-32", "1.6", "5"), ("TUBE-ALU-28", "1.1", "5"), ("DROPOUT-SET", "1")),
    },
    {
        "parent": "WELD-CITY-L",
        "lines": _lines(("TUBE-ALU-32", "1.8", "5"), ("TUBE-ALU-28", "1.2", "5"), ("DROPOUT-SET", "1")),
    },
    {
        "parent": "WELD-TREK-M",
        "lines": _lines(("TUBE-ALU-32", "1.7", "5"), ("TUBE-ALU-28", "1.2", "5"), ("DROPOUT-SET", "1")),
    },
    {
        "parent": "WHEEL-700",
        "lines": _lines(("RIM-700", "1"), ("SPOKE", "36", "2"), ("HUB-700", "1"), ("TIRE-700", "1")),
    },
    {
        "parent": "WHEEL-20",
        "lines": _lines(("RIM-20", "1"), ("SPOKE", "28", "2"), ("HUB-20", "1"), ("TIRE-20", "1")),
    },
    {
        "parent": "DRIVE-7S",
        "lines": _lines(
            ("CHAIN", "1"),
            ("CASSETTE-7S", "1"),
            ("DERAILLEUR-7S", "1"),
            ("SHIFTER-7S", "1"),
            ("CRANKSET", "1"),
        ),
    },
    {"parent": "COCKPIT", "lines": _lines(("HANDLEBAR", "1"), ("GRIPS", "1"), ("BOLT-KIT", "0.5"))},
]


def _op(seq: int, wc: str, setup: str, run: str, alternates: list[Body] | None = None) -> Body:
    return {
        "seq": seq,
        "work_center": wc,
        "setup_minutes": setup,
        "run_minutes_per_unit": run,
        "alternates": alternates or [],
    }


ROUTINGS: list[Body] = [
    {
        "sku": "BIKE-CITY-M",
        "operations": [_op(10, "ASSY", "20", "38"), _op(20, "QC", "0", "6"), _op(30, "PACK", "5", "4")],
    },
    {
        "sku": "BIKE-CITY-L",
        "operations": [_op(10, "ASSY", "20", "38"), _op(20, "QC", "0", "6"), _op(30, "PACK", "5", "4")],
    },
    {
        "sku": "BIKE-TREK-M",
        "operations": [_op(10, "ASSY", "25", "45"), _op(20, "QC", "0", "8"), _op(30, "PACK", "5", "4")],
    },
    {
        "sku": "BIKE-KIDS-20",
        "operations": [_op(10, "ASSY", "15", "25"), _op(20, "QC", "0", "4"), _op(30, "PACK", "5", "3")],
    },
    {"sku": "WELD-CITY-M", "operations": [_op(10, "CUT", "15", "4"), _op(20, "WELD", "30", "22")]},
    {"sku": "WELD-CITY-L", "operations": [_op(10, "CUT", "15", "4"), _op(20, "WELD", "30", "24")]},
    {
        "sku": "WELD-TREK-M",
        "operations": [
            _op(10, "CUT", "15", "5"),
            _op(20, "WELD", "30", "28", [{"work_center": "WELD-MAN", "run_minutes_per_unit": "40"}]),
        ],
    },
    {"sku": "FRAME-CITY-M", "operations": [_op(10, "PAINT", "45", "6")]},
    {"sku": "FRAME-CITY-L", "operations": [_op(10, "PAINT", "45", "6")]},
    {"sku": "FRAME-TREK-M", "operations": [_op(10, "PAINT", "45", "7")]},
    {
        "sku": "FRAME-KIDS-20",
        "operations": [
            _op(10, "CUT", "10", "3"),
            _op(20, "WELD-MAN", "20", "30"),
            _op(30, "PAINT", "45", "5"),
        ],
    },
    {"sku": "WHEEL-700", "operations": [_op(10, "WHEEL", "10", "14")]},
    {"sku": "WHEEL-20", "operations": [_op(10, "WHEEL", "10", "11")]},
    {"sku": "COCKPIT", "operations": [_op(10, "ASSY", "5", "6")]},
]

WORK_CENTERS: list[Body] = [
    {
        "code": "CUT",
        "name": "Tube cutting",
        "machines": [{"code": "SAW-1"}, {"code": "SAW-2"}],
        "efficiency": "0.95",
        "calendar": "2x8",
        "hourly_cost": "48",
    },
    {
        "code": "WELD",
        "name": "Welding robots",
        "machines": [{"code": "ROBOT-1"}, {"code": "ROBOT-2"}],
        "efficiency": "0.9",
        "calendar": "3x8",
        "hourly_cost": "85",
    },
    {
        "code": "WELD-MAN",
        "name": "Manual welding",
        "machines": [{"code": "BENCH-1"}, {"code": "BENCH-2"}],
        "efficiency": "0.85",
        "calendar": "1x8",
        "hourly_cost": "62",
    },
    {
        "code": "PAINT",
        "name": "Powder-coating line",
        "machines": [{"code": "LINE-1"}],
        "efficiency": "0.92",
        "calendar": "2x8-paint",
        "hourly_cost": "120",
    },
    {
        "code": "WHEEL",
        "name": "Wheel lacing and truing",
        "machines": [{"code": "LACER-1"}],
        "efficiency": "1.0",
        "calendar": "1x8",
        "hourly_cost": "55",
    },
    {
        "code": "ASSY",
        "name": "Final assembly",
        "machines": [{"code": f"STATION-{i}"} for i in range(1, 5)],
        "efficiency": "1.0",
        "calendar": "2x8-sat",
        "hourly_cost": "58",
    },
    {
        "code": "QC",
        "name": "Inspection",
        "machines": [{"code": "QC-1"}],
        "efficiency": "1.0",
        "calendar": "1x8",
        "hourly_cost": "50",
    },
    {
        "code": "PACK",
        "name": "Packing",
        "machines": [{"code": "PACK-1"}],
        "efficiency": "1.0",
        "calendar": "1x8",
        "hourly_cost": "40",
    },
]

_WEEK = ("mon", "tue", "wed", "thu", "fri")
_HOLIDAYS = ["2026-12-25", "2027-01-01", "2027-03-29", "2027-05-06", "2027-05-17"]

CALENDARS: list[Body] = [
    {
        "code": "plant",
        "weekdays": {d: [["08:00", "16:00"]] for d in _WEEK},
        "holidays": _HOLIDAYS,
        "exceptions": [],
    },
    {
        "code": "1x8",
        "weekdays": {d: [["08:00", "16:00"]] for d in _WEEK},
        "holidays": _HOLIDAYS,
        "exceptions": [],
    },
    {
        "code": "2x8",
        "weekdays": {d: [["06:00", "14:00"], ["14:00", "22:00"]] for d in _WEEK},
        "holidays": _HOLIDAYS,
        "exceptions": [],
    },
    {
        "code": "2x8-sat",
        "weekdays": {
            **{d: [["06:00", "14:00"], ["14:00", "22:00"]] for d in _WEEK},
            "sat": [["07:00", "12:00"]],
        },
        "holidays": _HOLIDAYS,
        "exceptions": [],
    },
    {
        "code": "2x8-paint",
        "weekdays": {d: [["06:00", "14:00"], ["14:00", "22:00"]] for d in _WEEK},
        "holidays": _HOLIDAYS,
        "exceptions": [
            {"start": "2026-12-02T06:00:00Z", "end": "2026-12-02T14:00:00Z", "kind": "maintenance"},
            {"start": "2026-12-12T07:00:00Z", "end": "2026-12-12T15:00:00Z", "kind": "overtime"},
        ],
    },
    {
        "code": "3x8",
        "weekdays": {d: [["06:00", "14:00"], ["14:00", "22:00"], ["22:00", "06:00"]] for d in _WEEK},
        "holidays": _HOLIDAYS,
        "exceptions": [],
    },
]


def _supplied(sku: str, lead: int, moq: str, multiple: str, price: str, priority: int = 1) -> Body:
    return {
        "sku": sku,
        "lead_time_days": lead,
        "min_order_qty": moq,
        "multiple": multiple,
        "price": price,
        "priority": priority,
    }


SUPPLIERS: list[Body] = [
    {
        "code": "ALUTUBE",
        "name": "Alu Tubes SA",
        "items": [
            _supplied("TUBE-ALU-32", 10, "60", "6", "6.40"),
            _supplied("TUBE-ALU-28", 10, "60", "6", "5.10"),
            _supplied("TUBE-STEEL-25", 8, "30", "6", "3.20"),
            _supplied("DROPOUT-SET", 15, "50", "10", "7.80"),
        ],
    },
    {
        "code": "ROUES",
        "name": "Roues & Rayons SARL",
        "items": [
            _supplied("RIM-700", 15, "100", "20", "11.20"),
            _supplied("RIM-20", 15, "40", "20", "6.30"),
            _supplied("SPOKE", 10, "2000", "500", "0.18"),
            _supplied("HUB-700", 20, "50", "10", "14.00"),
            _supplied("HUB-20", 20, "20", "10", "6.00"),
            _supplied("TIRE-700", 10, "50", "10", "9.90"),
            _supplied("TIRE-20", 10, "20", "10", "5.50"),
        ],
    },
    {
        "code": "COMPOS",
        "name": "Composants Vélo",
        "items": [
            _supplied(s, 15, "20", "10", p)
            for s, p in (
                ("CHAIN", "6.90"),
                ("CASSETTE-7S", "12.40"),
                ("DERAILLEUR-7S", "15.60"),
                ("SHIFTER-7S", "8.30"),
                ("CRANKSET", "21.00"),
                ("HANDLEBAR", "7.40"),
                ("GRIPS", "2.10"),
                ("BRAKE-SET", "13.80"),
                ("SADDLE", "9.20"),
                ("SEATPOST", "5.60"),
                ("PEDALS", "4.70"),
                ("LIGHT-SET", "16.50"),
                ("RACK", "12.00"),
                ("FENDERS", "8.80"),
                ("FORK-CITY", "18.00"),
                ("FORK-SUSP", "64.00"),
                ("FORK-KIDS", "9.50"),
                ("BOLT-KIT", "1.30"),
            )
        ],
    },
    {
        "code": "PEINTURES",
        "name": "Peintures Poudre Industrie",
        "items": [
            _supplied("PAINT-BLUE", 5, "25", "25", "14.00"),
            _supplied("PAINT-RED", 5, "25", "25", "14.50"),
        ],
    },
    {
        "code": "COMPOS-BIS",
        "name": "Second source for forks",
        "items": [_supplied("FORK-CITY", 25, "50", "25", "17.20", priority=2)],
    },
]


def import_body() -> Body:
    """The whole plant as one ``POST /v1/masterdata/imports`` body."""
    return {
        "units": UNITS,
        "families": FAMILIES,
        "items": ITEMS,
        "boms": BOMS,
        "routings": ROUTINGS,
        "work_centers": WORK_CENTERS,
        "calendars": CALENDARS,
        "suppliers": SUPPLIERS,
    }
