"""The design library: the store's designs with their labels as a table, uploads and exports.

- :mod:`.table` — one row per (design, label) with units in the column names; filters, sorting, CSV.
- :mod:`.transfer` — upload a design file (all or nothing), export designs as JSON and plates as 3MF/STL.

What the "Design library" page shows and does; the page itself only draws.
"""

from engine.library.table import (
    COLUMN_HELP,
    LIBRARY_COLUMNS,
    METRIC_COLUMNS,
    SORTABLE_COLUMNS,
    filter_library,
    grid_sizes,
    library_csv,
    library_table,
    solver_key_name,
    solver_keys,
    sort_library,
    stored_curves,
)
from engine.library.transfer import (
    BLOCK_EDGE_RANGE_MM,
    MAX_PLATES,
    MAX_UPLOAD_BYTES,
    PLATE_FORMATS,
    THICKNESS_RANGE_MM,
    PlateArchive,
    UploadReport,
    add_design_file,
    check_plate_size,
    designs_json,
    plate_blocks,
    plates_zip,
)

__all__ = [
    "BLOCK_EDGE_RANGE_MM",
    "COLUMN_HELP",
    "LIBRARY_COLUMNS",
    "MAX_PLATES",
    "MAX_UPLOAD_BYTES",
    "METRIC_COLUMNS",
    "PLATE_FORMATS",
    "SORTABLE_COLUMNS",
    "THICKNESS_RANGE_MM",
    "PlateArchive",
    "UploadReport",
    "add_design_file",
    "check_plate_size",
    "designs_json",
    "filter_library",
    "grid_sizes",
    "library_csv",
    "library_table",
    "plate_blocks",
    "plates_zip",
    "solver_key_name",
    "solver_keys",
    "sort_library",
    "stored_curves",
]
