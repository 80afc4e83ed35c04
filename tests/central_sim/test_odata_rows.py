"""The stored rows cut from one expanded walk equal what Central's per-table
walk gives, for nested repeats and groups."""

from defusedxml import ElementTree
from pyxform.xls2xform import convert

from central_sim.odata_rows import (
    Options,
    Schema,
    dumps,
    render_all,
    submission_rows,
)
from central_sim.xform import parse_xform, repeat_tables

NESTED_MD = """
| survey |              |          |         |
|        | type         | name     | label   |
|        | text         | name     | Name    |
|        | begin repeat | visit    | Visit   |
|        | date         | day      | Day     |
|        | begin group  | place    | Place   |
|        | text         | commune  | Commune |
|        | end group    |          |         |
|        | begin repeat | child    | Child   |
|        | integer      | age      | Age     |
|        | end repeat   |          |         |
|        | end repeat   |          |         |
|        | begin group  | extra    | Extra   |
|        | begin repeat | note     | Note    |
|        | text         | text     | Text    |
|        | end repeat   |          |         |
|        | end group    |          |         |
| settings |            |          |         |
|          | form_id    | version  |         |
|          | nested     | 1        |         |
"""

SUBMISSION = (
    '<data id="nested" version="1"><name>N</name>'
    "<visit><day>2026-01-01</day><place><commune>1</commune></place>"
    "<child><age>3</age></child><child><age>4</age></child></visit>"
    "<visit><day>2026-01-02</day><place><commune/></place>"
    "<child><age>5</age></child></visit>"
    "<extra><note><text>a</text></note><note><text>b</text></note></extra>"
    "<meta><instanceID>uuid:n1</instanceID></meta></data>"
)


def test_render_all__equals_the_per_table_walk():
    definition = parse_xform(convert(xlsform=NESTED_MD, file_type=".md").xform.encode())
    schema = Schema(definition.fields)
    xml = ElementTree.fromstring(SUBMISSION)

    rendered = render_all(schema, xml, "uuid:n1", encrypted=False)

    system = {"edits": 0}
    plain = submission_rows(schema, "Submissions", SUBMISSION, "uuid:n1", system)
    expanded = submission_rows(
        schema, "Submissions", SUBMISSION, "uuid:n1", system, options=Options(True)
    )
    assert rendered.head + dumps(system) + rendered.tail == dumps(plain[0])
    assert rendered.head_x + dumps(system) + rendered.tail_x == dumps(expanded[0])
    tables = repeat_tables(schema.fields)
    assert tables == [
        "Submissions.visit",
        "Submissions.visit.child",
        "Submissions.extra.note",
    ]
    for table in tables:
        expected = [
            (r["__id"], dumps(r))
            for r in submission_rows(schema, table, SUBMISSION, "uuid:n1", None)
        ]
        assert rendered.tables[table] == expected
    assert (
        '"__Submissions-visit-id"' in rendered.tables["Submissions.visit.child"][0][1]
    )
