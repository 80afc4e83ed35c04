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
