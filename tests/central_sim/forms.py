"""Small XForms for the simulator's tests, compiled by pyxform from inline
XLSForm tables, and builders for their submissions."""

import uuid

from pyxform.xls2xform import convert

SURVEY_MD = """
| survey |                 |             |               |
|        | type            | name        | label         |
|        | text            | respondent  | Respondent    |
|        | integer         | age         | Age           |
|        | decimal         | income      | Income        |
|        | date            | visit_date  | Visit date    |
|        | dateTime        | visited_at  | Visited at    |
|        | select_one yn   | consent     | Consent       |
|        | select_multiple needs | needs | Needs         |
|        | geopoint        | location    | Location      |
|        | begin group     | address     | Address       |
|        | text            | commune     | Commune       |
|        | end group       |             |               |
|        | begin repeat    | household   | Household     |
|        | text            | member_name | Member name   |
|        | integer         | member_age  | Member age    |
|        | end repeat      |             |               |
| choices |                |             |               |
|         | list_name      | name        | label         |
|         | yn             | yes         | Yes           |
|         | yn             | no          | No            |
|         | needs          | food        | Food          |
|         | needs          | school      | School        |
| settings |               |             |               |
|          | form_id       | version     | form_title    |
|          | sim_test      | v1          | Simulator test |
"""

FORM_ID = "sim_test"


def xform(version: str = "v1") -> bytes:
    md = SURVEY_MD.replace("| v1 ", f"| {version} ")
    return convert(xlsform=md, file_type=".md").xform.encode()


def photo_xform() -> bytes:
    """The test form with an image question (a binary field)."""
    md = SURVEY_MD.replace(
        "|        | geopoint        | location    | Location      |",
        "|        | geopoint        | location    | Location      |\n"
        "|        | image           | photo       | Photo         |",
    )
    return convert(xlsform=md, file_type=".md").xform.encode()


def media_xform() -> bytes:
    """The test form choosing from a CSV file, which Central expects as form media."""
    md = SURVEY_MD.replace(
        "|        | select_one yn   | consent     | Consent       |",
        "|        | select_one_from_file communes.csv | consent | Consent |",
    )
    return convert(xlsform=md, file_type=".md").xform.encode()


def new_instance_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def submission(
    *,
    instance_id: str | None = None,
    version: str = "v1",
    form_id: str = FORM_ID,
    respondent: str = "Person",
    age: int | str = 30,
    members: tuple[tuple[str, int], ...] = (("A", 5), ("B", 7)),
    deprecated_id: str | None = None,
    commune: str | None = "30280",
) -> str:
    instance_id = instance_id or new_instance_id()
    household = "".join(
        f"<household><member_name>{n}</member_name><member_age>{a}</member_age>"
        "</household>"
        for n, a in members
    )
    deprecated = (
        f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else ""
    )
    address = f"<address><commune>{commune}</commune></address>" if commune else ""
    return (
        f'<data xmlns:jr="http://openrosa.org/javarosa" id="{form_id}" '
        f'version="{version}"><respondent>{respondent}</respondent><age>{age}</age>'
        "<income>1250.50</income><visit_date>2026-11-01</visit_date>"
        "<visited_at>2026-11-01T09:30:00.000+07</visited_at><consent>yes</consent>"
        "<needs>food school</needs><location>10.38 105.43 12 5</location>"
        f"{address}{household}<meta><instanceID>{instance_id}</instanceID>"
        f"{deprecated}</meta></data>"
    )


def encrypted_xform() -> bytes:
    """The test form with a (dummy) public key: Central stores what it is sent
    and cannot decrypt, which is all the simulator reproduces."""
    xml = xform().decode()
    key = '<submission base64RsaPublicKey="MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"/>'
    return xml.replace("</model>", f"{key}</model>").encode()


def encrypted_envelope(instance_id: str) -> str:
    return (
        '<data id="sim_test" version="v1" encrypted="yes" '
        'xmlns="http://opendatakit.org/submissions">'
        "<base64EncryptedKey>a2V5</base64EncryptedKey>"
        '<meta xmlns="http://openrosa.org/xforms">'
        f"<instanceID>{instance_id}</instanceID></meta>"
        "<encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        "<base64EncryptedElementSignature>c2ln</base64EncryptedElementSignature>"
        "</data>"
    )
