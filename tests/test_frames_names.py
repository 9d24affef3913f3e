"""The aggregation's frames name their columns with plain str, not SQLAlchemy's `quoted_name`: the summary's
process unpickles the aggregation (`app.reporting.summary_aggregation`), and a `quoted_name` in it would make
that process import SQLAlchemy (~140 modules) to read it back. Checked on a store WITH data: an empty store's
frames are built elsewhere and cannot show it."""

from __future__ import annotations

import pickle
from pathlib import Path

from cchc_excel.app.reporting import aggregate_period, summary_aggregation
from cchc_excel.archive.importing import import_files
from cchc_excel.archive.workspace import Workspace
from tests.conftest import MARCH, PHUOC_HOA, good_values_phuoc_hoa, ws_form
from tests.test_store import ON_TIME

TAN = "22789"


def test_the_aggregation_of_imported_forms_pickles_without_sqlalchemy(workspace: Workspace,
                                                                      tmp_path: Path) -> None:
    paths = [ws_form(workspace, unit, tmp_path / unit, good_values_phuoc_hoa() | {"CT_1_TU": ct1})
             for unit, ct1 in ((PHUOC_HOA, 40), (TAN, 41))]
    outcomes = [o for _, o in import_files(workspace, paths, period=MARCH, received_at=ON_TIME, workers=1)]
    assert [o.status for o in outcomes] == ["accepted"] * 2
    agg = aggregate_period(workspace, MARCH)
    assert len(agg.long) and len(agg.units_ytd)   # frames read from the store's rows
    for name, frame in agg.tables().items():
        assert all(type(c) is str for c in frame.columns), (name, [type(c) for c in frame.columns])
    sent = pickle.dumps(summary_aggregation(agg))
    assert b"sqlalchemy" not in sent
    assert b"sqlalchemy" not in pickle.dumps(agg)
