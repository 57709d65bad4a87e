"""Start nx-27017 with one gap closed: a compound index that ends in `_id`.

The stand-in keeps `_id` in a column of its own, not in the JSON it indexes, and builds a
compound index from JSON paths; a key of `_id` becomes an invalid path, and every later insert
into the collection fails. The keyset lists' indexes end in `_id` (MongoDB serves their sort
only so), so here `_id` is indexed by the JSON path it would have, which is absent. Indexes
only speed up the stand-in's queries, never change their answers, so nothing else differs.

Run as `python -m tests.wire.nx_server <nx-27017 arguments>`.
"""

import sys

from neosqlite.collection import index_manager
from nx_27017.nx_27017 import main

_parse_json_path = index_manager.parse_json_path


def _path(field: str) -> str:
    return "$._id" if field == "_id" else _parse_json_path(field)


if __name__ == "__main__":
    index_manager.parse_json_path = _path
    sys.argv[0] = "nx-27017"
    sys.exit(main())
