"""The file readers on their own: rows as read from a file, before any mapping."""

from api.ingest.readers import open_source
from tests.ingest import files as F


def test_xlsx_rows_with_a_blank_first_cell_keep_their_sheet_row_numbers(tmp_path):
    # a read-only sheet gives a blank cell as an EmptyCell, which has no row number: the
    # reader once took each row's number from its first cell and failed on such a row
    path = tmp_path / "h.xlsx"
    path.write_bytes(
        F.xlsx_bytes(
            [
                ["name", "external_id", "lon"],
                [None, "X1", 30.5],
                ["North field", "X2", 30.6],
                [],  # a blank row: skipped, and the rows after it keep their numbers
                [None, None, "=1+1"],
            ]
        )
    )
    source = open_source(path, "xlsx", workdir=tmp_path)
    rows = [row for batch in source.batches(10) for row in batch]
    assert [row.number for row in rows] == [2, 3, 5]
    assert rows[0].values == {"name": None, "external_id": "X1", "lon": 30.5}
    assert rows[0].error is None
    assert rows[2].error is not None
    assert rows[2].error[0] == "lon" and "cell C5 holds a formula" in rows[2].error[1]
