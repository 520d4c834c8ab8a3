"""A refused row is reported on the line a spreadsheet or editor shows it on, whatever blank
lines or cells with line breaks come before it."""

from .test_csv_import import run_import

TEXT = (
    "external_id,email,first_name,title\n"  # line 1
    "l-1,ada@example.com,Ada,CTO\n"  # 2
    "\n"  # 3: blank
    'l-2,bob@example.com,Bob,"Head of\nSales"\n'  # 4-5: a cell over two lines
    "l-3,not-an-email,Carl,CFO\n"  # 6
    "\n"  # 7
    "l-4,also bad,Dora,CEO\n"  # 8
)


def test_refused_rows_are_reported_on_their_own_lines(workspace, tmp_path):
    code, out, _ = run_import(workspace, "leads", TEXT, tmp_path)
    assert code == 1
    assert "line 6: email: 'not-an-email' is not a valid email address." in out
    assert "line 8: email: 'also bad' is not a valid email address." in out
    assert "4 rows: 2 created" in out
