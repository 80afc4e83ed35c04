"""The XForm and submissions the contract scenario sends, all fixed text.

Fixed instanceIDs make every row, repeat id and skiptoken comparable between a
real Central and the simulator.
"""

XML_FORM_ID = "contract_case"

FORM_XML = """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
 xmlns:jr="http://openrosa.org/javarosa" xmlns:odk="http://www.opendatakit.org/xforms"
 xmlns:orx="http://openrosa.org/xforms">
  <h:head>
    <h:title>Contract case</h:title>
    <model odk:xforms-version="1.0.0">
      <instance>
        <data id="contract_case" version="draft1">
          <district/>
          <child>
            <name/>
            <age/>
            <weight/>
            <birth_date/>
          </child>
          <needs/>
          <location/>
          <visit jr:template="">
            <visit_date/>
            <visit_note/>
          </visit>
          <meta>
            <instanceID/>
            <instanceName/>
          </meta>
        </data>
      </instance>
      <bind nodeset="/data/district" type="string" required="true()"/>
      <bind nodeset="/data/child/name" type="string"/>
      <bind nodeset="/data/child/age" type="int"/>
      <bind nodeset="/data/child/weight" type="decimal"/>
      <bind nodeset="/data/child/birth_date" type="date"/>
      <bind nodeset="/data/needs" type="string"/>
      <bind nodeset="/data/location" type="geopoint"/>
      <bind nodeset="/data/visit/visit_date" type="date"/>
      <bind nodeset="/data/visit/visit_note" type="string"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()"
       jr:preload="uid"/>
      <bind nodeset="/data/meta/instanceName" type="string"
       calculate="concat('Case ', /data/child/age)"/>
    </model>
  </h:head>
  <h:body>
    <select1 ref="/data/district">
      <label>District</label>
      <item><label>Long Xuyen</label><value>883</value></item>
      <item><label>Chau Doc</label><value>884</value></item>
    </select1>
    <group ref="/data/child">
      <label>Child</label>
      <input ref="/data/child/name"><label>Name</label></input>
      <input ref="/data/child/age"><label>Age</label></input>
      <input ref="/data/child/weight"><label>Weight</label></input>
      <input ref="/data/child/birth_date"><label>Birth date</label></input>
    </group>
    <select ref="/data/needs">
      <label>Needs</label>
      <item><label>Food</label><value>food</value></item>
      <item><label>School</label><value>school</value></item>
      <item><label>Health</label><value>health</value></item>
    </select>
    <input ref="/data/location"><label>Location</label></input>
    <group ref="/data/visit">
      <label>Visit</label>
      <repeat nodeset="/data/visit">
        <input ref="/data/visit/visit_date"><label>Visit date</label></input>
        <input ref="/data/visit/visit_note"><label>Note</label></input>
      </repeat>
    </group>
  </h:body>
</h:html>
"""

UUID_A = "uuid:0a000000-0000-4000-8000-00000000000a"
UUID_A2 = "uuid:0a000000-0000-4000-8000-0000000000a2"
UUID_B = "uuid:0b000000-0000-4000-8000-00000000000b"
UUID_B2 = "uuid:0b000000-0000-4000-8000-0000000000b2"
UUID_C = "uuid:0c000000-0000-4000-8000-00000000000c"
UUID_D = "uuid:0d000000-0000-4000-8000-00000000000d"
UUID_E = "uuid:0e000000-0000-4000-8000-00000000000e"
UUID_BAD = "uuid:0f000000-0000-4000-8000-00000000000f"


def _visits(visits: list[tuple[str, str]]) -> str:
    return "".join(
        f"<visit><visit_date>{day}</visit_date><visit_note>{note}</visit_note></visit>"
        for day, note in visits
    )


def submission(
    instance_id: str,
    *,
    district: str = "883",
    age: str = "7",
    weight: str = "21.5",
    needs: str = "food school",
    location: str = "10.3759 105.4185 5.0 4.5",
    visits: tuple[tuple[str, str], ...] = (("2026-11-02", "first"),),
    deprecated_id: str | None = None,
    form_id: str = XML_FORM_ID,
    version: str = "v1",
    with_child: bool = True,
) -> str:
    """One submission document as ODK Collect writes it (empty elements kept)."""
    child = (
        f"<child><name>Child {age}</name><age>{age}</age><weight>{weight}</weight>"
        "<birth_date>2019-05-04</birth_date></child>"
        if with_child
        else ""
    )
    deprecated = (
        f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else ""
    )
    return (
        '<?xml version="1.0"?>'
        f'<data xmlns:jr="http://openrosa.org/javarosa" id="{form_id}"'
        f' version="{version}">'
        f"<district>{district}</district>{child}<needs>{needs}</needs>"
        f"<location>{location}</location>{_visits(list(visits))}"
        f"<meta><instanceID>{instance_id}</instanceID>"
        f"<instanceName>Case {age}</instanceName>{deprecated}</meta></data>"
    )


MEDIA_FORM_ID = "contract_media"
MEDIA_FILE = "communes.csv"
MEDIA_CSV = "name,label\n30280,My Hoa\n30283,My Long\n"

# A choice list from a form media CSV, as the plan's unit lists are shipped.
MEDIA_FORM_XML = """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
 xmlns:jr="http://openrosa.org/javarosa" xmlns:odk="http://www.opendatakit.org/xforms">
  <h:head>
    <h:title>Contract media</h:title>
    <model odk:xforms-version="1.0.0">
      <instance>
        <data id="contract_media" version="m1">
          <commune/>
          <meta>
            <instanceID/>
          </meta>
        </data>
      </instance>
      <instance id="communes" src="jr://file-csv/communes.csv"/>
      <bind nodeset="/data/commune" type="string"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()"
       jr:preload="uid"/>
    </model>
  </h:head>
  <h:body>
    <select1 ref="/data/commune">
      <label>Commune</label>
      <itemset nodeset="instance('communes')/root/item">
        <value ref="name"/>
        <label ref="label"/>
      </itemset>
    </select1>
  </h:body>
</h:html>
"""


SECRET_FORM_ID = "contract_secret"
# A public key only: Central cannot decrypt what is sent to this form, which is
# the case the contract checks (a key the server never sees, as Collect uses).
SECRET_PUBLIC_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA38Xe8btRB2ad0XAzDWs9vnShIEP6"
    "0jxwsNs71BTiOMmDQ9WN1wXrDFepGhCNyOXJ3HTYoLXXE+eRxJKX2pdxewTwMEK4IbgmNvq9"
    "5lIQtG6qxFx8b64AQcS6/+zPjec28jsCN3iS34PPXAiUH4aqXrR3tcYsukSKVgLg56Ig0RGV"
    "Q6U/Ni5utK/yKJcyMxIfbfqdVDSd54NXodwOMtuglENQuSkF4tQlO3sg2ib1W8BqNp60s9F0"
    "yF5DB4i6BlZ+345crfeQfLRPBJUoG+GXGb1WusZEfhDx5aYsL/tvhQOyXdG57LcBnqD7TkvQ"
    "7dZSLp7iEnlsBffrLP3DV7aajQIDAQAB"
)
SECRET_FORM_XML = f"""<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
 xmlns:jr="http://openrosa.org/javarosa" xmlns:odk="http://www.opendatakit.org/xforms"
 xmlns:orx="http://openrosa.org/xforms">
  <h:head>
    <h:title>Contract secret</h:title>
    <model odk:xforms-version="1.0.0">
      <instance>
        <data id="contract_secret" version="e1">
          <victim_age/>
          <meta>
            <instanceID/>
          </meta>
        </data>
      </instance>
      <submission base64RsaPublicKey="{SECRET_PUBLIC_KEY}"/>
      <bind nodeset="/data/victim_age" type="int"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()"
       jr:preload="uid"/>
    </model>
  </h:head>
  <h:body>
    <input ref="/data/victim_age"><label>Age</label></input>
  </h:body>
</h:html>
"""

UUID_SECRET = "uuid:5e000000-0000-4000-8000-00000000005e"
UUID_SECRET_PLAIN = "uuid:5e000000-0000-4000-8000-0000000000f1"
SECRET_ENC_FILE = "submission.xml.enc"
# Stands in for ciphertext: Central stores it without trying to read it.
SECRET_ENC_BYTES = bytes(range(256)) * 4


def encrypted_submission(instance_id: str) -> str:
    """The envelope ODK Collect sends for a form with a public key."""
    return (
        '<?xml version="1.0"?>'
        '<data id="contract_secret" version="e1" encrypted="yes"'
        ' xmlns="http://opendatakit.org/submissions"'
        ' xmlns:orx="http://openrosa.org/xforms">'
        "<base64EncryptedKey>c2Vzc2lvbi1rZXk=</base64EncryptedKey>"
        f"<orx:meta><orx:instanceID>{instance_id}</orx:instanceID></orx:meta>"
        f"<encryptedXmlFile>{SECRET_ENC_FILE}</encryptedXmlFile>"
        "<base64EncryptedElementSignature>c2lnbmF0dXJl</base64EncryptedElementSignature>"
        "</data>"
    )


def plain_secret_submission(instance_id: str) -> str:
    return (
        '<?xml version="1.0"?><data id="contract_secret" version="e1">'
        f"<victim_age>15</victim_age><meta><instanceID>{instance_id}</instanceID>"
        "</meta></data>"
    )


NESTED_FORM_ID = "contract_nested"
NESTED_FORM_XML = """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
 xmlns:jr="http://openrosa.org/javarosa" xmlns:odk="http://www.opendatakit.org/xforms">
  <h:head>
    <h:title>Contract nested</h:title>
    <model odk:xforms-version="1.0.0">
      <instance>
        <data id="contract_nested" version="n1">
          <household jr:template="">
            <head_name/>
            <member jr:template="">
              <member_age/>
              <member_needs/>
            </member>
          </household>
          <meta>
            <instanceID/>
          </meta>
        </data>
      </instance>
      <bind nodeset="/data/household/head_name" type="string"/>
      <bind nodeset="/data/household/member/member_age" type="int"/>
      <bind nodeset="/data/household/member/member_needs" type="string"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()"
       jr:preload="uid"/>
    </model>
  </h:head>
  <h:body>
    <group ref="/data/household">
      <label>Household</label>
      <repeat nodeset="/data/household">
        <input ref="/data/household/head_name"><label>Head</label></input>
        <group ref="/data/household/member">
          <label>Member</label>
          <repeat nodeset="/data/household/member">
            <input ref="/data/household/member/member_age"><label>Age</label></input>
            <select ref="/data/household/member/member_needs">
              <label>Needs</label>
              <item><label>Food</label><value>food</value></item>
              <item><label>School</label><value>school</value></item>
            </select>
          </repeat>
        </group>
      </repeat>
    </group>
  </h:body>
</h:html>
"""

UUID_NESTED = "uuid:4e000000-0000-4000-8000-00000000004e"


def nested_submission(instance_id: str) -> str:
    households = (
        ("Head one", (("34", "food"), ("6", "food school"))),
        ("Head two", ()),
        ("Head three", (("71", ""),)),
    )
    body = "".join(
        f"<household><head_name>{head}</head_name>"
        + "".join(
            f"<member><member_age>{age}</member_age>"
            f"<member_needs>{needs}</member_needs></member>"
            for age, needs in members
        )
        + "</household>"
        for head, members in households
    )
    return (
        '<?xml version="1.0"?><data id="contract_nested" version="n1">'
        f"{body}<meta><instanceID>{instance_id}</instanceID></meta></data>"
    )


PHOTO_FORM_ID = "contract_photo"
PHOTO_FORM_XML = """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
 xmlns:jr="http://openrosa.org/javarosa" xmlns:odk="http://www.opendatakit.org/xforms">
  <h:head>
    <h:title>Contract photo</h:title>
    <model odk:xforms-version="1.0.0">
      <instance>
        <data id="contract_photo" version="p1">
          <note_text/>
          <photo/>
          <meta>
            <instanceID/>
          </meta>
        </data>
      </instance>
      <bind nodeset="/data/note_text" type="string"/>
      <bind nodeset="/data/photo" type="binary"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()"
       jr:preload="uid"/>
    </model>
  </h:head>
  <h:body>
    <input ref="/data/note_text"><label>Note</label></input>
    <upload ref="/data/photo" mediatype="image/*"><label>Photo</label></upload>
  </h:body>
</h:html>
"""

UUID_P1 = "uuid:91000000-0000-4000-8000-000000000091"
UUID_P1_EDIT = "uuid:91000000-0000-4000-8000-0000000009e1"
UUID_P2 = "uuid:92000000-0000-4000-8000-000000000092"
UUID_P3 = "uuid:93000000-0000-4000-8000-000000000093"
# Not a real picture: Central stores the bytes and their type as sent.
PHOTO_BYTES = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 2 + b"\xff\xd9"


def photo_submission(
    instance_id: str, photo: str | None, *, deprecated_id: str | None = None
) -> str:
    deprecated = (
        f"<deprecatedID>{deprecated_id}</deprecatedID>" if deprecated_id else ""
    )
    return (
        '<?xml version="1.0"?><data id="contract_photo" version="p1">'
        f"<note_text>note for {instance_id[-2:]}</note_text>"
        f"<photo>{photo or ''}</photo>"
        f"<meta><instanceID>{instance_id}</instanceID>{deprecated}</meta></data>"
    )
